"""The catalog: the charts' components, their values, docs and schemas."""
