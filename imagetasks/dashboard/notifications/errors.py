class DeliveryFailed(Exception):
    """This attempt did not get through; the text says why and is shown on the task page."""
