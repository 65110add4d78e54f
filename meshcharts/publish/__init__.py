"""Built packages to chart repositories: folders and OCI registries."""
