"""Background work of the log: publishing checkpoints."""

from celery import shared_task

from registry.transparency.services import checkpoint_flag_clear, checkpoint_publish


@shared_task(name="registry.transparency.tasks.publish_checkpoint")
def publish_checkpoint() -> int | None:
    """Sign a checkpoint if the tree grew since the last one (idempotent)."""
    # First clear the flag: an append committed after this point schedules the next publication.
    checkpoint_flag_clear()
    checkpoint = checkpoint_publish()
    return checkpoint.size if checkpoint else None
