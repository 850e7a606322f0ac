"""Shared fixtures: the built-in study and small synthetic studies with known answers."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

import hzforecast as hz

SEED_DIR = Path(__file__).resolve().parents[2] / "shared" / "seed"


@pytest.fixture(scope="session")
def jiaozuo():
    return hz.load_study("jiaozuo-2019")


def base_doc():
    """A minimal valid study as plain data: one level, one share, one target each."""
    return {
        "id": "toy",
        "name_zh": "玩具",
        "name_en": "Toy",
        "sources": [
            {"id": "src", "title": "A report", "date": "2019-01-01", "kind": "report"},
            {"id": "me", "title": "Assumptions", "date": "2020-01-01", "kind": "assumption"},
        ],
        "indicators": [
            {
                "id": "gdp",
                "name_zh": "地区生产总值",
                "name_en": "GDP",
                "unit": "亿元",
                "kind": "level",
                "observations": [
                    {
                        "year": 2018,
                        "value": 100.0,
                        "source": "src",
                        "text": "100亿元",
                        "quote": "GDP 100亿元",
                    },
                ],
            },
            {
                "id": "share",
                "name_zh": "比重",
                "name_en": "Share",
                "unit": "%",
                "kind": "share",
                "observations": [{"year": 2018, "value": 0.2, "source": "src", "text": "20%"}],
            },
        ],
        "targets": [
            {
                "id": "gdp-2023",
                "indicator": "gdp",
                "year": 2023,
                "comparator": ">=",
                "value": 140.0,
                "status": "stated",
                "source": "src",
                "quote": "GDP 140亿元",
            },
            {
                "id": "share-2023",
                "indicator": "share",
                "year": 2023,
                "comparator": ">=",
                "value": 0.25,
                "status": "assumed",
                "rationale": "for the test",
            },
        ],
        "scenarios": [
            {
                "id": "base",
                "name_zh": "基准",
                "name_en": "Base",
                "base_year": 2018,
                "end_year": 2023,
                "rationale": "test",
                "assumptions": [
                    {
                        "indicator": "gdp",
                        "growth": {"dist": "fixed", "value": 0.07},
                        "volatility": 0.05,
                        "rationale": "test",
                    },
                    {
                        "indicator": "share",
                        "growth": {"dist": "fixed", "value": 0.05},
                        "volatility": 0.1,
                        "rationale": "test",
                    },
                ],
            }
        ],
    }


@pytest.fixture
def doc():
    return copy.deepcopy(base_doc())


def make(doc) -> hz.Study:
    return hz.io.study_from_dict(doc)
