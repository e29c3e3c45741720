"""Background work of witnessing: submitting checkpoints to the policy's witnesses."""

from celery import shared_task

from registry.witness.services import witness_round


@shared_task(name="registry.witness.tasks.witness_checkpoints")
def witness_checkpoints() -> dict[str, str]:
    """Submit the newest checkpoint to each witness whose turn it is (backoff, rate limit, lease)."""
    return witness_round()
