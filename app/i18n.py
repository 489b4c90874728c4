"""German by default, English on request (a visible switch that is remembered in a cookie)."""
from __future__ import annotations

from flask import Flask, g, has_app_context, has_request_context, request
from flask_babel import Babel

from app import ROOT

LANGS = ("de", "en")
babel = Babel()


def N_(text: str) -> str:
    """Marks a msgid that is translated where it is shown (with _() or the template's _)."""
    return text


class Localized(str):
    """A text of a town's data, knowing its language: German unless the town wrote it in
    English (pages mark German text on an English page with lang="de")."""

    lang = "de"


def pick(lang: str, en: str | None, de: str | None) -> Localized:
    """The English text when `lang` is English and it is set, else the German one."""
    text = Localized(en if lang == "en" and en else (de or ""))
    text.lang = "en" if lang == "en" and en else "de"
    return text


def pick_list(lang: str, en: list | None, de: list | None) -> list[Localized]:
    use_en = lang == "en" and bool(en)
    return [pick("en" if use_en else "de", item if use_en else None, item) for item in ((en if use_en else de) or [])]


def current_lang() -> str:
    lang = g.get("lang") if _has_g() else None
    if lang:
        return lang
    if not _has_request():
        return "de"
    lang = request.args.get("lang") or request.cookies.get("lang")
    if lang is None:  # first visit, no language chosen yet: the browser's preference
        lang = request.accept_languages.best_match(LANGS, default="de")
    return lang if lang in LANGS else "de"


def _has_g() -> bool:
    return has_app_context()


def _has_request() -> bool:
    return has_request_context()


def init_app(app: Flask) -> None:
    # Absolute: a relative directory would be looked up under app/, not the repository root.
    babel.init_app(app, locale_selector=current_lang, default_translation_directories=str(ROOT / "translations"))
    app.jinja_env.globals["current_lang"] = current_lang

    @app.after_request
    def _remember_lang(response):
        # Pages (first visit) and the API follow Accept-Language: a shared cache keeps one copy
        # per language (Flask adds Cookie, for the `lang` cookie, when the session was read).
        response.vary.add("Accept-Language")
        chosen = request.args.get("lang")
        if chosen in LANGS and request.cookies.get("lang") != chosen:
            response.set_cookie("lang", chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        return response
