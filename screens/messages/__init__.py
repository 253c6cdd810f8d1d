"""The app's words by area, in Chinese and English; `screens.i18n` gathers them into one table."""
