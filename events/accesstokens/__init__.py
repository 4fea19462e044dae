"""Access tokens for the event providers (access-tokens.md): Inge-6, RVIG, identity hashes, JWTs."""
