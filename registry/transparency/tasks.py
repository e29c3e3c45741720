"""Background work of the log: publishing checkpoints."""

from celery import shared_task

from registry.background import enqueue
from registry.transparency.services import checkpoint_flag_clear, checkpoint_publish


@shared_task(name="registry.transparency.tasks.publish_checkpoint")
def publish_checkpoint() -> int | None:
    """Sign a checkpoint if the tree grew since the last one (idempotent)."""
    # First clear the flag: an append committed after this point schedules the next publication.
    checkpoint_flag_clear()
    checkpoint = checkpoint_publish()
    _witness_soon()
    return checkpoint.size if checkpoint else None


def _witness_soon() -> None:
    """With a witness policy, submit the newest checkpoint in a task of its own: a slow or absent
    witness never holds up publication (nor, as this runs off the request path, a verification).
    Every sweep calls this, so failed submissions are retried (each witness keeps its backoff)."""
    from registry.witness.config import witness_policy
    from registry.witness.tasks import witness_checkpoints

    if witness_policy() is not None:
        enqueue(witness_checkpoints.delay, what="the witness submission")
