"""The second reader of crisis texts (helpline.crisis_model): it finds what no line of the
vocabulary says, leaves menu words, idioms and other languages alone, is trained on the
tuning part only and reproducibly, and a helpline without it still works."""
from __future__ import annotations

import mmap
from array import array
from pathlib import Path

import pytest
import yaml

from helpline import crisis_eval, crisis_model
from helpline.content import Content
from helpline.crisis import compile_vocabulary, fold

from .test_crisis import CONTENT, SUICIDE_EN, SUICIDE_ES, answer

ROOT = Path(__file__).resolve().parent.parent
# Said in the tuning part, and in no line of the vocabulary.
UNSAID = {"en": "lost my kids lost my job, im ready to go",
          "es": "perdi a mis hijos y mi trabajo, ya estoy listo para irme"}


@pytest.fixture
def without_reader():
    """The same content, its vocabularies working alone."""
    content = Content.load(ROOT / "content")
    for lang in content.languages.values():
        lang.crisis.reader = None
    return content


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_reader_finds_a_crisis_no_line_says(without_reader, lang):
    assert without_reader.languages[lang].crisis.kinds(UNSAID[lang]) == []
    assert CONTENT.languages[lang].crisis.kinds(UNSAID[lang]) == ["crisis.suicide"]


@pytest.mark.parametrize("sender, text, expected", [("+15555550180", UNSAID["en"], SUICIDE_EN),
                                                    ("+15555550181", UNSAID["es"], SUICIDE_ES)])
def test_a_text_only_the_reader_understands_gets_the_crisis_answer(twilio, sender, text, expected):
    twilio.text("hi", sender)
    reply = twilio.text(text, sender)
    assert reply.startswith(answer(expected))


def test_the_reader_adds_to_what_the_lines_found_and_skips_texts_with_an_idiom():
    read = []

    def reader(words):
        read.append(words)
        return ["crisis.suicide"] if "tonight" in words else []

    vocabulary = compile_vocabulary({"crisis.overdose": ["blue lips"], "crisis.suicide": ["kms"],
                                     "ignore": ["feeling blue"]})
    vocabulary.reader = reader
    assert vocabulary.kinds("Blue lips TONIGHT") == ["crisis.overdose", "crisis.suicide"]
    assert read == [["blue", "lips", "tonight"]]          # folded, as the reader was trained
    assert vocabulary.kinds("feeling blue tonight") == []
    assert len(read) == 1


def test_fewer_than_three_words_are_never_read():
    """A menu choice, a keyword or a word or two: the vocabulary's business (one strong word
    would outweigh everything else), and no cost on the menu path."""
    model = crisis_model.load("en")
    crisis_word = max(("overdose", "suicide", "kms", "dying"),
                      key=lambda w: sum(model.kinds["crisis.suicide"][0][b] * v
                                        for b, v in crisis_model.features([w])))
    assert model.read([crisis_word]) == []
    assert model.read(fold("1")) == [] and model.read(fold("menu")) == []
    assert crisis_model.load("es").read(fold("mono morado")) == []


def test_a_text_with_an_idiom_is_left_to_the_lines():
    """What the reader would make of the whole text does not count once an ignore phrase
    is found in it."""
    text = "mi mama me va a matar cuando vea la cuenta del cel"
    assert crisis_model.load("es").read(fold(text)) == ["crisis.suicide"]
    assert CONTENT.languages["es"].crisis.kinds(text) == []


@pytest.mark.parametrize("text", ["i want to quit dope", "i want to stop using", "quiero dejar la droga",
                                  "mi hermano no quiere ir a rehab q puedo hacer"])
def test_wanting_to_quit_is_no_crisis(text):
    assert not any(lang.crisis.kinds(text) for lang in CONTENT.languages.values())


@pytest.mark.parametrize("text", ["Nueve, cero dos uno cero.", "dos cero cero cero uno",
                                  "mi zip es uno uno dos tres cero", "One, zero zero zero one.",
                                  "nine oh two one zero"])
def test_numbers_said_aloud_are_no_crisis(text):
    """A caller saying a ZIP code: "uno" is also the "one" of "se muere uno", which the
    Spanish reader had learnt from method questions until numbers said aloud were taught."""
    assert not any(lang.crisis.kinds(text) for lang in CONTENT.languages.values())


def test_a_crisis_is_read_by_its_own_language_only():
    """Each reader learnt the other language's texts as not its own, so a Spanish crisis is
    answered in Spanish, and an English everyday text is never a Spanish crisis."""
    assert crisis_model.load("en").read(fold(UNSAID["es"])) == []
    assert crisis_model.load("es").read(fold(UNSAID["en"])) == []


def test_the_models_are_trained_on_the_current_tuning_part():
    """After the tuning part changes, ``flask --app helpline crisis-train`` must be run."""
    sets = crisis_eval.training_sets(crisis_eval.DEFAULT_CORPUS)
    assert set(sets) == {"en", "es"}
    for lang, examples in sets.items():
        assert crisis_model.load(lang).corpus_sha256 == crisis_model.corpus_sha256(examples), lang
        assert {text for text, _ in examples}.isdisjoint(held_out_texts())


def held_out_texts() -> set[str]:
    return {str(t) for path in crisis_eval.DEFAULT_CORPUS.glob("*.yaml") if ".tune." not in path.name
            for texts in yaml.safe_load(path.read_text(encoding="utf-8")).values() for t in texts}


def test_training_reproduces_the_committed_models(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["crisis-train", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "en: " in result.output and "es: " in result.output
    for lang in ("en", "es"):
        assert crisis_model.model_path(lang, tmp_path).read_bytes() == crisis_model.model_path(lang).read_bytes()


def test_a_model_is_saved_and_loaded_whole(tmp_path):
    weights = array("f", [0.0] * crisis_model.BUCKETS)
    weights[5] = 2.5
    crisis_model.Model({"crisis.suicide": (weights, -1.25)}, "abc").save(tmp_path / "crisis_xx.model")
    loaded = crisis_model.load("xx", tmp_path)
    assert loaded.corpus_sha256 == "abc"
    assert loaded.kinds["crisis.suicide"][0] == weights and loaded.kinds["crisis.suicide"][1] == -1.25
    # read where the file is mapped (shared by a machine's workers), once per process
    assert isinstance(loaded.kinds["crisis.suicide"][0].obj, mmap.mmap)
    assert crisis_model.load("xx", tmp_path) is loaded


def test_no_model_or_a_broken_one_leaves_the_vocabulary_working(tmp_path, caplog):
    assert crisis_model.load("xx", tmp_path) is None
    (tmp_path / "crisis_xx.model").write_bytes(b'{"bits": 16, "kinds": {"crisis.suicide": 0.0}}\n\x00\x01')
    assert crisis_model.load("xx", tmp_path) is None
    assert "unreadable, the vocabulary works alone" in caplog.text
    (tmp_path / "crisis_xx.model").write_bytes(b"not a model")
    assert crisis_model.load("xx", tmp_path) is None


def test_training_needs_both_sides():
    with pytest.raises(ValueError, match="with and without"):
        crisis_model.train([("he is not breathing", "overdose")], {"crisis.overdose": "overdose"})
