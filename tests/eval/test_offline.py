"""The offline judge: its vocabulary, the criterion's action and option rules, and one credit per item."""

from __future__ import annotations

from planner.core.schema import Ablation
from planner.eval.offline import Context, judge_pair, offline_match, removes
from planner.eval.vocab import find_aliases, library_weights, term, terms


def ab(name: str, part: str, action: str = "REMOVE", *replacement: str) -> Ablation:
    return Ablation(name=name, ablated_part=part, action=action, replacement=list(replacement), metrics=["acc"])


def test_terms_fold_spelling_stems_synonyms_and_removal_words():
    assert terms("element-wise summation") == terms("addition")
    assert terms("two-stage training") == terms("decoupled training")
    assert terms("end-to-end training") == terms("joint training")
    assert terms("curvature regularisation") == terms("curvature regularization")
    assert terms("w/o the predictor") == terms("remove predictor") == [term("predictor")]
    assert terms("LayerNorm") == terms("layer normalization")
    assert terms("MSE") == terms("mean squared error")


def test_abbreviations_defined_in_a_text_stand_for_their_long_form():
    aliases = find_aliases("We propose **Adaptive and efficient tuning (A_T)**, and label distribution smoothing (LDS).")
    assert terms("A_T -> static ranks", aliases) == terms("adaptive efficient tuning -> fixed ranks")
    assert aliases["lds"] == tuple(terms("label distribution smoothing"))
    assert find_aliases("the gradient R_t (size r x n instead of m x n)") == {}  # no long form spelled there


def test_words_every_method_has_weigh_less_than_a_papers_own_terms():
    weights = library_weights()
    assert weights(term("module")) < weights(term("adaLN")) and weights(term("loss")) < weights(term("perspective"))


def test_removal_options_include_zero_in_a_sweep_and_none():
    assert removes("0 (un-finetuned)") and removes("σ = 0") and removes("none") and removes("w/o predictor")
    assert removes("identity") and not removes("0.05") and not removes("10") and not removes("ResNet-50")


def test_actions_the_other_side_allows():
    ctx = Context.for_paper(None, [])
    remove = ab("no predictor", "predictor MLP")
    with_none = ab("predictor", "predictor MLP", "REPLACE", "none", "linear layer")
    real = ab("predictor", "predictor MLP", "REPLACE", "linear layer")
    added = ab("predictor", "predictor MLP", "ADD", "second MLP")
    assert judge_pair(remove, with_none, ctx).matches() and judge_pair(with_none, remove, ctx).matches()
    assert not judge_pair(remove, real, ctx).compatible and not judge_pair(real, remove, ctx).compatible
    assert not judge_pair(remove, added, ctx).compatible and not judge_pair(added, real, ctx).compatible
    sweep = ab("online adaptation steps", "online adaptation iterations", "REPLACE", "0 (un-finetuned)", "5", "10")
    assert judge_pair(ab("remove online adaptation", "online adaptation"), sweep, ctx).matches()


def test_options_in_common_need_words_not_bare_numbers():
    ctx = Context.for_paper(None, [])
    rank = ab("rank", "projection rank r", "REPLACE", "4", "8", "16")
    optimizer = ab("base optimizer", "projection rank optimizer", "REPLACE", "8-bit Adam", "Adafactor")
    assert judge_pair(rank, optimizer, ctx).option == 0.0
    sweep = ab("rank sweep", "projection rank r", "REPLACE", "several values of r")
    assert judge_pair(rank, sweep, ctx).option == 1.0  # two sweeps of the same quantity


def test_a_shared_generic_word_is_not_the_same_component_and_each_item_is_credited_once():
    plan = [ab("Remove back-to-source activation shifting", "back-to-source activation shifting")]
    truth = [ab("Remove activation function", "activation function of the MLP"),
             ab("Remove activation checkpointing", "activation checkpointing"),
             ab("No back-to-source shifting", "back-to-source shifting of activations"),
             ab("Remove activation statistics", "running activation statistics")]
    assert offline_match(plan, truth) == {(0, 2)}


def test_a_split_match_is_credited_only_on_distinct_options():
    plan = [ab("Positional encoding", "Laplacian positional encoding", "REPLACE", "no positional encoding",
               "WL-based positional encoding")]
    truth = [ab("Remove Laplacian PE", "Laplacian eigenvector positional encoding"),
             ab("WL-PE instead of Laplacian PE", "Laplacian eigenvector positional encoding", "REPLACE",
                "Weisfeiler-Lehman based positional encoding (WL-based)")]
    assert offline_match(plan, truth) == {(0, 0), (0, 1)}
    one_option = [ab("Positional encoding", "Laplacian positional encoding", "REPLACE", "WL-based positional encoding")]
    assert offline_match(one_option, truth) == {(0, 1)}


def test_a_ground_truth_entry_may_be_covered_by_several_plan_items_that_each_match_it():
    truth = [ab("Remove contradiction hard negatives", "contradiction hypotheses as hard negatives")]
    plan = [ab("Ablation 3", "use of contradiction pairs as hard negatives"),
            ab("Ablation 5", "hard negatives of contradiction pairs in supervised learning")]
    assert offline_match(plan, truth) == {(0, 0), (1, 0)}


def test_paraphrases_match_and_the_paper_summary_defines_abbreviations():
    assert offline_match([ab("Fusion", "element-wise summation fusion", "REPLACE", "concatenation")],
                         [ab("Concatenation instead of addition", "addition fusion of the two branches", "REPLACE",
                             "channel concatenation")]) == {(0, 0)}
    plan = [ab("Adaptive tuning", "adaptive and efficient tuning of adapter ranks", "REPLACE", "fixed ranks")]
    truth = [ab("A_T -> static", "A_T", "REPLACE", "static ranks")]
    assert offline_match(plan, truth, "apt") == {(0, 0)}  # the apt summary defines A_T
    assert offline_match(plan, truth) == set()  # without the summary A_T means nothing
