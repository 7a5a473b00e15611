"""The derivation context: given parameters, recall of earlier parts, and the core task kinds."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sympy as sp

from derive.catalog.losses import Loss
from derive.exercise.letters import error_rule
from derive.exercise.model import Network, Part, Sample, Spec, Training
from derive.exercise.notation import ERROR
from derive.maths.general import (
    back_through,
    chain_rule,
    column,
    display_only,
    expanded_gradient,
    layer_input,
    tensor_symbol,
)
from derive.maths.network import (
    Backward,
    Forward,
    Params,
    State,
    Vec,
    after_steps,
    backward,
    forward,
    given_params,
    given_sample,
    hyper_quantities,
    loss_symbol,
    negated,
    plain,
    step,
)
from derive.maths.steps import (
    Compute,
    Diagram,
    Expanded,
    Finding,
    Given,
    Identity,
    Recall,
    Section,
    Step,
    Values,
)
from derive.maths.updates import Display, flat, frozen_entries, masked, optimizer_steps, tied, tied_groups
from derive.terms.formula import (
    DIGITS,
    MP,
    Apply,
    Derivative,
    Hadamard,
    Negate,
    Node,
    Power,
    Product,
    Quantity,
    Ref,
    Rule,
    Sqrt,
    Sum,
    Tensor,
    equal,
)
from derive.terms.keys import ROOT, Scope, parameter
from derive.terms.symbols import LOSS, OUTPUT, OUTPUT_LOSS, TARGET, Norm, Partial, Sym, Symbolic, Updated, bias, weight

ERROR_TERM = (
    r"@err_j = -\frac{\partial @L}{\partial @z_j}, \qquad \frac{\partial @L}{\partial @w_{ij}} = -@err_j\, @a_i, "
    r"\qquad \frac{\partial @L}{\partial @b_j} = -@err_j"
)
"""The error term's definition and what it gives a weight from unit i to unit j (the textbooks' way)."""
ERROR_RULE = r"@w_{ij}' = @w_{ij} + \alpha\, @err_j\, @a_i, \qquad @b_j' = @b_j + \alpha\, @err_j"
"""One step of gradient descent in the error term: θ − α ∂L/∂θ with ∂L/∂θ = −Err_j a_i."""


@dataclass
class Shown:
    """A forward (and maybe backward) pass already shown in an earlier part."""

    part: int
    forward: Forward
    backward: Backward | None = None
    backward_part: int | None = None


@dataclass
class Derivation:
    """The state of one derivation: the spec, its given parameters, and what earlier parts showed."""

    spec: Spec
    params: Params = field(init=False)
    shown: dict[tuple[int, int], Shown] = field(default_factory=dict)
    variants: dict[int, tuple[Network, Loss]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A spec without a network (only circuits, steps on given gradients) has no parameters of one.
        network = self.spec.network or Network(inputs=0, layers=())
        self.params = given_params(network, carry=self.spec.sheet.carry)

    def givens(self) -> tuple[Given, ...]:
        """The network's weights and biases, as the sheets state them (none without a network)."""
        layers = self.spec.network.layers if self.spec.network is not None else ()
        return tuple(
            g
            for l, layer in enumerate(layers, 1)
            for g in (
                Given(weight(l), self.params.weights[l - 1]),
                *((Given(bias(l), self.params.tensor(f"b{l}")),) if layer.has_bias else ()),
            )
        )

    def diagram(self) -> Diagram | None:
        """The given network with its weights and biases, for the top of both sheets (None without one)."""
        network = self.spec.network
        if network is None:
            return None
        widths = (network.inputs, *(layer.shape[0] for layer in network.layers))
        nones = tuple(tuple(None for _ in range(width)) for width in widths)
        biases = shown_biases(network, self.params.biases)
        return Diagram("network", nones, self.params.weights, biases, reads=network.stacking())

    def variant(self, part: Part[Any]) -> tuple[Network, Loss]:
        """The part's network and loss, made once so that parts sharing them can recall values."""
        if part.number not in self.variants:
            network, loss = part.network_and_loss(self.spec)
            if network == self.spec.network and loss == self.spec.loss:
                network, loss = self.spec.network, self.spec.loss
            self.variants[part.number] = (network, loss)
        return self.variants[part.number]

    def silent_pass(self, network: Network, part: Part[Any], scope: Scope) -> tuple[Forward, Backward]:
        """Forward and backward pass of the spec's network at the part's sample, reusing what parts showed."""
        assert part.sample is not None
        memo = self.shown.get(self.sample_key(network, part))
        if memo is not None:
            fwd = memo.forward
            bwd = memo.backward or backward(network, self.params, fwd, self.spec.loss, scope, self.slopes, self.errors)
            return fwd, bwd
        x, y = given_sample(part.sample, scope)
        fwd = forward(network, self.params, x, y, self.spec.loss, scope)
        return fwd, backward(network, self.params, fwd, self.spec.loss, scope, self.slopes, self.errors)

    @property
    def slopes(self) -> bool:
        """Whether the sheet writes each f'(z) as its own line, ∂a/∂z, before δ ([notation])."""
        return self.spec.sheet.notation.slopes

    @property
    def split(self) -> bool:
        """Whether the sheet splits the loss per output, L = Σ_j L_{o_j} ([notation] loss_per_output)."""
        return self.spec.sheet.notation.per_output

    @property
    def errors(self) -> bool:
        """Whether the sheet writes the error term Err_j = −∂L/∂z_j in place of δ ([notation] error_term)."""
        return bool(self.spec.sheet.notation.error)

    # --- shared pieces --------------------------------------------------------------------

    def sample_key(self, network: Network, part: Part[Any]) -> tuple[int, int]:
        origin = part.sample_of or part.number
        while self.spec.parts[origin - 1].sample_of is not None:
            origin = self.spec.parts[origin - 1].sample_of or origin
        return id(network), origin

    def sample_and_forward(
        self,
        network: Network,
        loss: Loss,
        part: Part[Any],
        show_forward: bool = True,
        recall: bool = True,
        params: Params | None = None,
        scope: Scope = ROOT,
    ) -> tuple[list[Section], Forward]:
        """The forward pass of the part's sample: recalled when an earlier part showed it."""
        key = self.sample_key(network, part)
        memo = self.shown.get(key)
        if memo is not None and recall:
            fwd = memo.forward
            if part.output is not None:  # the recalled pass, differentiating ŷ_j instead of its loss
                fwd = replace(fwd, targets=(), loss=fwd.output[part.output - 1])
            if not show_forward:
                return [], fwd
            shown = memo.forward  # a pass of an output has no target and no loss to recall
            items: list[tuple[Symbolic, tuple[Vec, ...]]] = [(Sym("x"), column(shown.inputs))]
            if shown.targets:
                items.append((Sym(TARGET.base), column(shown.targets)))
            for l in range(1, len(network.layers) + 1):
                items.append((tensor_symbol(network, l, "z"), column(shown.z[l - 1])))
                items.append((tensor_symbol(network, l, "a"), column(shown.a[l - 1])))
            if shown.targets:
                items.append((LOSS, ((shown.loss,),)))
            return [Section("recall_forward", (Recall(memo.part, tuple(items)),))], fwd
        assert part.sample is not None
        params = params or self.params
        scope = scope or Scope.part(part.number)
        x, y = given_sample(part.sample, scope, self.spec.sheet.carry)
        fwd = forward(network, params, x, y, loss, scope, output=part.output, split=self.split)
        self.shown.setdefault(key, Shown(part.number, fwd))
        drawn = Diagram("forward", (fwd.inputs, *fwd.a), reads=fwd.reads)
        # No loss (a part of an output): no target given, no loss computed.
        target = (Given(Sym(TARGET.base), column(y)),) if fwd.targets else ()
        sections = [
            Section("givens", (Given(Sym("x"), column(x)), *target)),
            Section("forward", (*self.forward_steps(network, params, fwd), drawn)),
        ]
        if fwd.targets:
            # Split per output, each output's share L_{o_j} first, then L = Σ_j L_{o_j}.
            split = (Compute(Sym(OUTPUT_LOSS), None, fwd.parts, shape=(len(fwd.parts), 1)),) if fwd.parts else ()
            sections.append(Section("loss", (*split, self.loss_step(fwd, loss), *loss_findings(fwd, loss))))
        return sections, fwd

    def derive_sample(
        self, network: Network, loss: Loss, sample: Sample, scope: Scope, params: Params | None = None
    ) -> tuple[list[Section], Forward, Backward]:
        """Givens, forward pass, loss and every gradient of one sample, shown in full, recalled by no one."""
        params = params or self.params
        x, y = given_sample(sample, scope, self.spec.sheet.carry)
        fwd = forward(network, params, x, y, loss, scope)
        bwd = backward(network, params, fwd, loss, scope, self.slopes, self.errors)
        names = params.names()
        return (
            [
                Section("givens", (Given(Sym("x"), column(x)), Given(Sym(TARGET.base), column(y)))),
                Section("forward", self.forward_steps(network, params, fwd)),
                Section("loss", (self.loss_step(fwd, loss),)),
                Section(
                    "backward",
                    (*self.backward_steps(network, loss, params, fwd, bwd, names), *gradient_findings(bwd, names)),
                ),
            ],
            fwd,
            bwd,
        )

    def gradient_sections(
        self,
        network: Network,
        loss: Loss,
        part: Part[Any],
        fwd: Forward,
        names: Sequence[str],
        params: Params | None = None,
        scope: Scope = ROOT,
    ) -> tuple[list[Section], Backward]:
        """The backward pass of the part's sample: recalled when an earlier part showed it."""
        # A part differentiating an output neither recalls nor lends gradients of the loss.
        memo = self.shown[self.sample_key(network, part)] if part.output is None else Shown(part.number, fwd)
        if memo.backward is not None and memo.backward_part is not None and memo.backward_part != part.number:
            items = tuple((Partial(LOSS, parameter(n)), memo.backward.tensor(n)) for n in names)
            return [Section("recall_gradients", (Recall(memo.backward_part, items),))], memo.backward
        params = params or self.params
        bwd = backward(network, params, fwd, loss, scope or Scope.part(part.number), self.slopes, self.errors)
        if memo.backward is None:
            memo.backward, memo.backward_part = bwd, part.number
        steps = (*self.backward_steps(network, loss, params, fwd, bwd, names), *gradient_findings(bwd, names))
        if set(self.params.names()) <= set(names):
            # Every parameter's gradient is known: draw them on the network.
            nones = tuple(tuple(None for _ in a) for a in (fwd.inputs, *fwd.a))
            biases = shown_biases(network, bwd.gradients.biases)
            gradients = bwd.gradients.weights
            steps = (*steps, Diagram("gradients", nones, gradients, biases, of=loss_symbol(fwd), reads=fwd.reads))
        return [Section("backward", steps)], bwd

    def forward_steps(
        self, network: Network, params: Params, fwd: Forward, mark: Callable[[Sym], Symbolic] = plain
    ) -> tuple[Step, ...]:
        steps: list[Step] = []
        for l, layer in enumerate(network.layers, 1):
            below = layer_input(network, fwd, l, mark)
            w = Tensor(mark(weight(l)), params.weights[l - 1])
            b = Tensor(mark(bias(l)), column(params.biases[l - 1]))
            z_symbol, a_symbol = mark(tensor_symbol(network, l, "z")), mark(tensor_symbol(network, l, "a"))
            z = fwd.z[l - 1]
            general: Node = Sum((Product((w, below)), b)) if layer.has_bias else Product((w, below))
            steps.append(Compute(z_symbol, general, z, shape=(len(z), 1)))
            z_tensor = Tensor(z_symbol, column(z))
            steps.append(Compute(a_symbol, Apply(layer.activation, z_tensor), fwd.a[l - 1], shape=(len(z), 1)))
        return tuple(steps)

    def loss_step(self, fwd: Forward, loss: Loss, mark: Callable[[Sym], Symbolic] = plain) -> Compute:
        general = loss.term(Tensor(mark(OUTPUT), column(fwd.output)), Tensor(Sym(TARGET.base), column(fwd.targets)))
        return Compute(fwd.loss.symbol, general if len(fwd.output) == 1 else None, (fwd.loss,), shape=(1, 1))

    def backward_steps(
        self,
        network: Network,
        loss: Loss,
        params: Params,
        fwd: Forward,
        bwd: Backward,
        names: Sequence[str],
        mark: Callable[[Sym], Symbolic] = plain,
    ) -> tuple[Step, ...]:
        """Steps 1–6 of backpropagation, from the output down to the lowest layer in ``names``.

        ``mark`` marks the weights' symbols (W' after a step); the loss is the pass's own (L, L_n).
        """
        if bwd.errors:
            return self.error_steps(network, loss, params, fwd, bwd, names, mark)
        depth = len(network.layers)
        of = loss_symbol(fwd)
        lowest = min(1 if n == "x" else int(n[1:]) for n in names)
        steps: list[Step] = [Identity(loss.identity, loss.prose)] if fwd.targets else []
        for act in dict.fromkeys(layer.activation for layer in network.layers[lowest - 1 :]):
            steps.append(Identity(act.identity, act.prose))
        yhat = Tensor(OUTPUT, column(fwd.output))
        d_out = Tensor(Partial(of, OUTPUT), column(bwd.output))
        target = Tensor(Sym(TARGET.base), column(fwd.targets))
        # Step 1: the loss's derivative, or with no loss the seed ∂ŷ_i/∂ŷ_j = [i = j].
        seed = loss.gradient(yhat, target) if fwd.targets else None
        steps.append(Compute(d_out.symbol, seed, bwd.output, 1, (len(bwd.output), 1)))
        upstream = d_out
        for l in range(depth, lowest - 1, -1):
            layer = network.layers[l - 1]
            z = Tensor(tensor_symbol(network, l, "z"), column(fwd.z[l - 1]))
            delta = Tensor(Sym("delta", l), column(bwd.delta[l - 1]))
            general: Node = Hadamard(upstream, Derivative(layer.activation, z))
            number: int | None = 2 if l == depth else 6
            mean = bwd.means[l - 1] if bwd.means else None
            if mean is not None:
                # Through softmax's Jacobian: first ḡ = Σ_i a_i ∂L/∂a_i, then δ = a ⊙ (∂L/∂a − ḡ).
                steps.append(Compute(mean.symbol, None, (mean,)))
                a_l = Tensor(tensor_symbol(network, l, "a"), column(fwd.a[l - 1]))
                shape = r"#1 \odot \left(#2 - #3\right)"
                general = Rule(shape, display_only, (a_l, upstream, Tensor(mean.symbol)))
            if bwd.slopes and bwd.slopes[l - 1]:
                # f'(z^{(l)}) on its own line, ∂a^{(l)}/∂z^{(l)}, opening the step; δ then multiplies by it.
                out = tensor_symbol(network, l, "a")
                da_dz = Tensor(Partial(out, tensor_symbol(network, l, "z")), column(bwd.slopes[l - 1]))
                width = (len(fwd.z[l - 1]), 1)
                steps.append(Compute(da_dz.symbol, Derivative(layer.activation, z), bwd.slopes[l - 1], number, width))
                general, number = Hadamard(upstream, da_dz), None
            steps.append(Compute(delta.symbol, general, bwd.delta[l - 1], number, (len(fwd.z[l - 1]), 1)))
            if mean is not None and l == depth and loss.name == "categorical_cross_entropy" and fwd.targets:
                steps.extend(softmax_shortcut(fwd, bwd, loss))
            below = layer_input(network, fwd, l, transpose=True)
            if f"W{l}" in names:
                steps.append(chain_rule(network, l, "w", of))
                if l == 1 and depth > 1 and not network.skips:  # with skips, one product per path: not shown
                    steps.append(Expanded(Partial(of, weight(1)), expanded_gradient(network, of)))
                grads = bwd.gradients.weights[l - 1]
                steps.append(Compute(Partial(of, weight(l)), Product((delta, below)), flat(grads), 3, _shape(grads)))
            if f"b{l}" in names and layer.shared_bias:
                # One bias in every unit: its gradient sums the units' error signals.
                (shared,) = bwd.gradients.tensor(f"b{l}")
                steps.append(Compute(Partial(of, bias(l)), None, shared, 4, (1, 1)))
            elif f"b{l}" in names:
                steps.append(chain_rule(network, l, "b", of))
                grads_b = bwd.gradients.biases[l - 1]
                steps.append(Compute(Partial(of, bias(l)), delta, grads_b, 4, (len(grads_b), 1)))
            if l > lowest and bwd.shares and l == depth:
                # Each output's share of a unit's gradient, ∂L_{o_j}/∂a_k, before their sum ∂L/∂a_k.
                shares = tuple(share for unit in bwd.shares for share in unit)
                steps.append(Compute(Partial(Sym(OUTPUT_LOSS), Sym("a", l - 1)), None, shares, 5, (len(shares), 1)))
            if l > lowest:
                d_a = bwd.activation[l - 2]
                general = back_through(network, params, bwd, l - 1, mark)
                number = None if bwd.shares and l == depth else 5  # the shares above opened step 5
                steps.append(Compute(Partial(of, Sym("a", l - 1)), general, d_a, number, (len(d_a), 1)))
                upstream = Tensor(Partial(of, Sym("a", l - 1)), column(d_a))
            elif "x" in names:
                # Step 5 once more, through W^{(1)}: the gradient with respect to the input itself.
                general = back_through(network, params, bwd, 0, mark)
                steps.append(Compute(Partial(of, Sym("x")), general, bwd.inputs, 5, (len(bwd.inputs), 1)))
        return tuple(steps)

    def error_steps(
        self,
        network: Network,
        loss: Loss,
        params: Params,
        fwd: Forward,
        bwd: Backward,
        names: Sequence[str],
        mark: Callable[[Sym], Symbolic] = plain,
    ) -> tuple[Step, ...]:
        """Backpropagation with the error term Err_j = −∂L/∂z_j, as a data-mining textbook writes it:
        Err_j = f'(z_j)(y_j − ŷ_j) at the output (step 2), f'(z_j) Σ_k Err_k w_{k,j} below (step 6,
        which takes in step 5's sum), ∂L/∂w_{j,k} = −Err_j a_k (step 3), ∂L/∂b_j = −Err_j (step 4)."""
        depth = len(network.layers)
        of = loss_symbol(fwd)
        lowest = min(1 if n == "x" else int(n[1:]) for n in names)
        steps: list[Step] = [Identity(ERROR_TERM, "error_term")]
        if fwd.targets:
            steps.append(Identity(loss.identity, loss.prose))
        for act in dict.fromkeys(layer.activation for layer in network.layers[lowest - 1 :]):
            steps.append(Identity(act.identity, act.prose))
        yhat = Tensor(OUTPUT, column(fwd.output))
        target = Tensor(Sym(TARGET.base), column(fwd.targets))
        for l in range(depth, lowest - 1, -1):
            layer = network.layers[l - 1]
            z = Tensor(tensor_symbol(network, l, "z"), column(fwd.z[l - 1]))
            err = Tensor(Sym(ERROR, l), column(bwd.delta[l - 1]))
            shape = (len(fwd.z[l - 1]), 1)
            if l == depth:
                rest = negated(loss.gradient(yhat, target)) if fwd.targets else None
                general = Hadamard(Derivative(layer.activation, z), rest) if rest is not None else None
                steps.append(Compute(err.symbol, general, bwd.delta[l - 1], 2, shape))
            else:
                summed = back_through(network, params, bwd, l, mark)
                steps.append(
                    Compute(err.symbol, Hadamard(Derivative(layer.activation, z), summed), bwd.delta[l - 1], 6, shape)
                )
            below = layer_input(network, fwd, l, transpose=True)
            if f"W{l}" in names:
                grads = bwd.gradients.weights[l - 1]
                general_w = Negate(Product((err, below)))
                steps.append(Compute(Partial(of, weight(l)), general_w, flat(grads), 3, _shape(grads)))
            if f"b{l}" in names:
                grads_b = bwd.gradients.tensor(f"b{l}")
                general_b = None if layer.shared_bias else Negate(err)
                steps.append(Compute(Partial(of, bias(l)), general_b, flat(grads_b), 4, (len(grads_b), 1)))
            if l == lowest and "x" in names:
                general_x = Negate(back_through(network, params, bwd, 0, mark))
                steps.append(Compute(Partial(of, Sym("x")), general_x, bwd.inputs, 5, (len(bwd.inputs), 1)))
        return tuple(steps)

    def update_sections(
        self,
        network: Network,
        loss: Loss,
        part: Part[Any],
        training: Training,
        fwd: Forward,
        bwd: Backward,
        names: Sequence[str],
    ) -> list[Section]:
        """``training.steps`` optimizer steps, each from the gradients at the parameters before it."""
        many = training.steps > 1
        sections, after, _ = self.optimizer_run(
            network, loss, part, training, fwd, bwd, names, optimizer_steps, "update", lambda t: str(t) if many else ""
        )
        mark = after_steps(training.steps)
        after_fwd = forward(network, after[-1], fwd.inputs, fwd.targets, loss, Scope.part(part.number), mark=mark)
        sections.append(
            Section(
                "after_update",
                (
                    *self.forward_steps(network, after[-1], after_fwd, mark=mark),
                    self.loss_step(after_fwd, loss, mark=mark),
                ),
                str(training.steps) if many else "",
            )
        )
        return sections

    def optimizer_run(
        self,
        network: Network,
        loss: Loss,
        part: Part[Any],
        training: Training,
        fwd: Forward,
        bwd: Backward,
        names: Sequence[str],
        display: Display,
        key: str,
        label: Callable[[int], str],
    ) -> tuple[list[Section], list[Params], dict[str, Quantity]]:
        """``training.steps`` steps of its optimizer from the given parameters.

        ``fwd``/``bwd`` are the pass at the given parameters; from step 2 on, each step's pass is
        recomputed at the parameters before it. Returns the sections (``display`` shows a step,
        in a section ``key`` labelled ``label(t)``), the parameters after each step, and α, β….
        """
        scope, optimizer = Scope.part(part.number), training.optimizer
        hyper = hyper_quantities(
            optimizer, training.learning_rate, scope, self.spec.sheet.carry, **dict(training.hyper)
        )
        params, state = self.params, State()
        sections: list[Section] = []
        after: list[Params] = []
        for t in range(1, training.steps + 1):
            if t > 1:
                fwd = forward(network, params, fwd.inputs, fwd.targets, loss, scope, mark=after_steps(t - 1))
                bwd = backward(network, params, fwd, loss, scope.step(t), self.slopes, self.errors)
                gradients = tuple(Values(Partial(LOSS, parameter(n)), bwd.gradients.tensor(n)) for n in names)
                # Every intermediate value of the passes, so that each gradient can be checked by hand.
                values = (*pass_values(fwd, bwd), Values(fwd.loss.symbol, ((fwd.loss,),)), *gradients)
                sections.append(Section("optimizer_gradients", values, str(t - 1)))
            if training.frozen:
                # 0. A frozen entry's gradient counts as 0, so every optimizer leaves it where it is.
                bwd = masked(bwd, training.frozen, scope if t == 1 else scope.step(t))
            sums: list[Step] = []
            if training.tied:
                # 0. Tied entries are one parameter: their gradient is the sum over its uses.
                bwd, sums = tied(bwd, training.tied, scope if t == 1 else scope.step(t))
            ascent = bwd.errors and error_rule(training, self.spec.sheet.notation)
            stepped = step(self.params, params, bwd, optimizer, hyper, state, names, scope, ascent)
            shown = display(optimizer, hyper, params, bwd, stepped, names, t == 1)
            rule = Identity(ERROR_RULE, "error_rule") if ascent else Identity(optimizer.formula, optimizer.prose)
            intro: tuple[Step, ...] = (rule,) if t == 1 else ()
            if training.frozen and t == 1:
                intro = (*intro, Finding("frozen", (("entries", frozen_entries(training.frozen)),)))
            if sums and t == 1:
                intro = (*intro, Finding("tied", (("groups", tied_groups(training.tied)),)))
            intro = (*intro, *sums)
            sections.append(Section(key, (*intro, *shown), label(t)))
            params, state = stepped.params, stepped.state
            after.append(params)
        return sections, after, hyper


def softmax_shortcut(fwd: Forward, bwd: Backward, loss: Loss) -> tuple[Step, ...]:
    """δ = ŷ − y for softmax with cross-entropy (targets summing to 1, no averaging).

    Proved once per output count with symbols (:func:`softmax_identity`), and confirmed at this
    sample to the digits carried. Comparing the exact values instead would run SymPy's
    cancellation on closed forms that grow with the network (it did not finish for 3-3-3).
    """
    if loss.scale != 1 or sum(q.exact for q in fwd.targets) != 1 or not softmax_identity(len(fwd.output)):
        return ()
    tolerance = MP.mpf(10) ** -(DIGITS - 5)
    pairs = zip(bwd.delta[-1], fwd.output, fwd.targets, strict=True)
    if any(abs(d.approx - (p.approx - y.approx)) > tolerance * max(1, abs(d.approx)) for d, p, y in pairs):
        return ()
    return (Finding("softmax_ce_shortcut", (("delta", Sym("delta", len(bwd.delta))),)),)


@functools.cache
def softmax_identity(n: int) -> bool:
    """Whether a_j (∂L/∂a_j − Σ_i a_i ∂L/∂a_i) = a_j − y_j for ∂L/∂a_i = −y_i/a_i and Σ y_i = 1."""
    a = sp.symbols(f"a1:{n + 1}", positive=True)
    y = [*sp.symbols(f"y1:{n}"), 1 - sum(sp.symbols(f"y1:{n}"), sp.Integer(0))]
    g = [-yi / ai for ai, yi in zip(a, y, strict=True)]
    mean = sum((ai * gi for ai, gi in zip(a, g, strict=True)), sp.Integer(0))
    return all(equal(a[j] * (g[j] - mean), a[j] - y[j]) for j in range(n))


def loss_findings(fwd: Forward, loss: Loss) -> tuple[Step, ...]:
    """An explanation when the loss is infinite (cross-entropy of a certain, wrong prediction), and a
    note when a target lies where the loss has no lower bound (cross-entropy with y outside [0, 1])."""
    found: list[Step] = []
    if fwd.loss.exact.is_infinite:
        found.append(Finding("infinite_loss", (("loss", fwd.loss.symbol),)))
    if loss.unbounded_for([q.exact for q in fwd.targets]):
        found.append(Finding("unbounded_loss", (("loss", fwd.loss.symbol),)))
    return tuple(found)


def gradient_findings(bwd: Backward, names: Sequence[str]) -> tuple[Step, ...]:
    """An explanation when every gradient asked for is exactly zero."""
    grads = [q for name in names for row in bwd.tensor(name) for q in row]
    if grads and all(q.exact == 0 for q in grads):
        cause = "output" if all(q.exact == 0 for q in bwd.output) else "slopes"
        return (Finding("zero_gradient", (("cause", cause),)),)
    return ()


def shown_biases(network: Network, biases: tuple[Vec, ...]) -> tuple[Vec, ...]:
    """The biases (or their gradients) a drawing shows: none for a layer without a bias."""
    return tuple(b if layer.has_bias else () for layer, b in zip(network.layers, biases, strict=True))


def _shape(matrix: Sequence[Sequence[Quantity]]) -> tuple[int, int]:
    return len(matrix), len(matrix[0])


def norm(grads: Sequence[Sequence[Quantity]], of: Symbolic, scope: Scope) -> Quantity:
    """The Frobenius norm √(Σ g²) of a gradient matrix, as a quantity of its own."""
    terms = tuple(Power(Ref(g), 2) for row in grads for g in row)
    return Quantity.computed(Norm(of), Sqrt(Sum(terms)), scope)


def pass_values(fwd: Forward, bwd: Backward) -> list[Values]:
    """A forward and backward pass as listed values: each layer's z and a (the last a is ŷ), then each
    layer's δ from the output back."""
    vectors = [v for pair in zip(fwd.z, fwd.a, strict=True) for v in pair]
    vectors += [v for v in reversed(bwd.delta) if v]
    return [Values(_vector(v[0].symbol), tuple((q,) for q in v)) for v in vectors]


def _vector(symbol: Symbolic) -> Symbolic:
    """The vector an entry's symbol belongs to: z'^{(1)} for z'^{(1)}_2."""
    if isinstance(symbol, Updated):
        return replace(symbol, of=replace(symbol.of, index=()))
    return replace(symbol, index=()) if isinstance(symbol, Sym) else symbol
