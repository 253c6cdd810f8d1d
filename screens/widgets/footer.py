"""The footer, with each key's description in the user's language (looked up by binding id)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from ..i18n import MESSAGES, tr


def binding_label(binding_id: str | None, fallback: str, lang: str) -> str:
    """The translated description of a binding, or its own description when it has no id."""
    key = f"key.{binding_id}"
    return tr(key, lang) if binding_id and key in MESSAGES else fallback


class TranslatedFooter(Footer):
    """Textual's footer, but descriptions come from the message catalogue."""

    def __init__(self) -> None:
        super().__init__(compact=True)

    def compose(self) -> ComposeResult:
        """One FooterKey per shown binding, labelled in the app's language."""
        if not self._bindings_ready:
            return
        lang = getattr(self.app, "language", "en")
        seen: set[str] = set()
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding_label(binding.id, binding.description, lang),
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
        palette = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if self.app.ENABLE_COMMAND_PALETTE and palette is not None:
            _node, binding, enabled, _tip = palette
            yield FooterKey(binding.key, self.app.get_key_display(binding),
                            tr("key.palette", lang), binding.action,
                            classes="-command-palette", disabled=not enabled)
