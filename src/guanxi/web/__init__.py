"""Web shell: base templates, navigation, sign-in, vendored static assets."""
