"""Builds: plan (plan.py) -> backend (container.py | host.py) -> check (verify.py) -> cache (cache.py)
and delivery (deliver.py); pipeline.py runs them, noop.py answers unchanged projects; the builder
image is image.py (+ context.py, base.py). Nothing is imported here: `wasmbuild build`'s no-op
path must stay light."""
