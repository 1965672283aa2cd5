"""The SQLAlchemy implementation of :class:`laicai.store.repository.Repository`, one module per
area; :class:`laicai.store.store.Store` puts them together."""
