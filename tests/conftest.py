"""Shared fixtures: the offline renders of every stack, rendered once per test session."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from tools.render import render
from tools.stackfiles import available_stacks
from tools.stackview import StackView

STACKS = available_stacks()


@functools.cache
def rendered_doc(stack: str) -> dict[str, Any]:
    return render(stack)


def view(stack: str) -> StackView:
    return StackView(rendered_doc(stack))


@pytest.fixture(scope="session")
def prod() -> StackView:
    return view("prod")


@pytest.fixture(scope="session")
def staging() -> StackView:
    return view("staging")


@pytest.fixture(scope="session", params=STACKS)
def each_stack(request: pytest.FixtureRequest) -> StackView:
    return view(request.param)
