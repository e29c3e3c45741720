"""Background work of the log: publishing checkpoints."""

from celery import shared_task

from registry.transparency.services import checkpoint_publish


@shared_task(name="registry.transparency.tasks.publish_checkpoint")
def publish_checkpoint() -> int | None:
    """Sign a checkpoint if the tree grew since the last one (idempotent)."""
    checkpoint = checkpoint_publish()
    return checkpoint.size if checkpoint else None
