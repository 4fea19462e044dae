"""Idemix (gabi-compatible) issuance, holder and verifier for the domestic signer (signers.md §2.1–§2.7).

Pure Python with gmpy2 acceleration; no Django, no I/O except reading key files passed in.
Modules: `params` (system parameters), `arith` (big-integer backends), `encoding` (wire formats),
`keys` (gabi XML keys), `primes` (the `e` prime pool), `issuer`, `holder`, `verifier`, and
`signer` (the JSON-level operations of the signer's routes).
"""
