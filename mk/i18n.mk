# Translations of the app (app/locale). Included by the root Makefile (-include mk/*.mk); PY and VENV come from there.
# makemessages needs GNU gettext (xgettext, msgmerge: Debian's gettext, in scripts/system-packages.txt);
# compiling does not (polib), so the image build needs no gettext.
MAKEMESSAGES := cd app && DJANGO_SETTINGS_MODULE=kakoi.settings.build ../$(PY) manage.py makemessages -l ja --add-location file --no-obsolete --ignore 'tests/*' --ignore 'staticfiles/*'

.PHONY: messages compile-messages

messages: venv system-packages ## extract the app's strings into app/locale/ja/LC_MESSAGES/django.po (then translate the empty msgstr), and compile
	@$(MAKEMESSAGES)
	@cd app && DJANGO_SETTINGS_MODULE=kakoi.settings.build ../$(PY) manage.py compile_translations
	@echo "== untranslated or fuzzy entries fail app/tests/test_i18n.py; terms: docs/i18n-glossary.md"

compile-messages: venv ## compile app/locale/*/LC_MESSAGES/*.po into .mo (pure Python)
	@cd app && DJANGO_SETTINGS_MODULE=kakoi.settings.build ../$(PY) manage.py compile_translations
