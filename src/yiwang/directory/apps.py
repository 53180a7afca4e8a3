from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "yiwang.directory"
    label = "directory"
    verbose_name = "区划与机构"
