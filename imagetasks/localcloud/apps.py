from django.apps import AppConfig


class LocalCloudConfig(AppConfig):
    name = "imagetasks.localcloud"
    label = "localcloud"
    verbose_name = "Built-in cloud"
