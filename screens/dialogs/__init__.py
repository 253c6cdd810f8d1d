"""Modal dialogs of the app, each a ModalScreen[T] returning its answer."""
