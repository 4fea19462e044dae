"""ASGI entry point with a lifespan wrapper (Django has none): start-up validation
(settings.md §2) and closing the pooled outbound clients at shutdown (signers.md §1)."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coronacheck.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()


async def _lifespan(receive, send) -> None:
    from django.conf import settings

    from signing.http import clients_close

    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                if settings.VALIDATE_CONFIG_AT_START:
                    from asgiref.sync import sync_to_async

                    from coronacheck.config_checks import config_problems_raise

                    await sync_to_async(config_problems_raise, thread_sensitive=False)()
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await clients_close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await django_application(scope, receive, send)
