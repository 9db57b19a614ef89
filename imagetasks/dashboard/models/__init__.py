from imagetasks.dashboard.models.heartbeat import Heartbeat

__all__ = ["Heartbeat"]
