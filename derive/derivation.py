"""From a validated spec to a solution: each part's task kind becomes sections of typed steps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from derive.errors import SpecError
from derive.formula import Apply, Derivative, Hadamard, Product, Quantity, Sum, Tensor
from derive.network import (
    Backward,
    Forward,
    Params,
    Vec,
    backward,
    forward,
    given_params,
    given_sample,
    plain,
    rate_quantity,
    step,
    updated,
)
from derive.notation import LOSS, OUTPUT, RATE, TARGET, Partial, Sym, Symbolic, Updated, bias, weight
from derive.spec import Network, Part, Spec
from derive.steps import ChainRule, Claim, Compute, Given, Identity, PartSolution, Recall, Section, Solution, Step


def derive(spec: Spec) -> Solution:
    """Solve every part of ``spec`` exactly. Verification is separate: see :func:`derive.verify`."""
    return _Deriver(spec).solve()


def column(values: Sequence[Quantity]) -> tuple[tuple[Quantity, ...], ...]:
    return tuple((q,) for q in values)


@dataclass
class _Computed:
    """A forward (and maybe backward) pass already shown in an earlier part."""

    part: int
    forward: Forward
    backward: Backward | None = None
    backward_part: int | None = None


@dataclass
class _Deriver:
    spec: Spec
    params: Params = field(init=False)
    shown: dict[tuple[int, int], _Computed] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.params = given_params(self.spec.network)

    def solve(self) -> Solution:
        givens = tuple(
            g
            for l in range(1, len(self.spec.network.layers) + 1)
            for g in (
                Given(weight(l), self.params.weights[l - 1]),
                Given(bias(l), column(self.params.biases[l - 1])),
            )
        )
        kinds: dict[str, Callable[[Part], PartSolution]] = {
            "forward": self.forward_part,
            "show_that": self.show_that_part,
            "gradients": self.gradients_part,
            "update": self.update_part,
            "replace_activation": self.replace_activation_part,
        }
        parts = []
        for part in self.spec.parts:
            if part.kind not in kinds:
                raise TypeError(f"no derivation for part kind {part.kind!r}")
            parts.append(kinds[part.kind](part))
        return Solution(self.spec, givens, tuple(parts))

    # --- the task kinds -------------------------------------------------------------------

    def forward_part(self, part: Part) -> PartSolution:
        prefix = f"p{part.number}."
        x, y = given_sample(part.sample, prefix)
        fwd = forward(self.spec.network, self.params, x, y, self.spec.loss, prefix)
        self.remember(part, fwd)
        sections = [
            Section("givens", (Given(Sym("x"), column(x)), Given(Sym(TARGET.base), column(y)))),
            Section("forward", self.forward_steps(self.spec.network, self.params, fwd)),
            Section("loss", (self.loss_step(fwd),)),
        ]
        return PartSolution(part, tuple(sections))

    def show_that_part(self, part: Part) -> PartSolution:
        solved = self.forward_part(part)
        assert part.claim is not None
        fwd = self.shown[self.sample_key(self.spec.network, part)].forward
        claims: list[Step] = []
        for j, (q, claimed) in enumerate(zip(fwd.output, part.claim, strict=True), 1):
            difference = q.exact - claimed
            if difference != 0 and (abs(float(q.approx) - float(claimed)) > 1e-30 or not difference.equals(0)):
                name = "ŷ" if len(fwd.output) == 1 else f"ŷ_{j}"
                computed = f"{q.exact} ≈ {float(q.approx):.6g}"
                raise SpecError(
                    f"parts[{part.number}].yhat",
                    f"the claim {name} = {claimed} is false: derive computes {name} = {computed}",
                )
            claims.append(Claim(q, claimed))
        sections = solved.sections
        # The claim is shown right after the forward pass, before the loss.
        return PartSolution(part, (*sections[:2], Section("claim", tuple(claims)), *sections[2:]))

    def gradients_part(self, part: Part) -> PartSolution:
        network = self.spec.network
        sections, fwd = self.sample_and_forward(network, part)
        bwd = backward(network, self.params, fwd, self.spec.loss, f"p{part.number}.")
        memo = self.shown[self.sample_key(network, part)]
        memo.backward, memo.backward_part = bwd, part.number
        sections.append(Section("backward", self.backward_steps(network, fwd, bwd, part.wrt or self.params.names())))
        return PartSolution(part, tuple(sections))

    def update_part(self, part: Part) -> PartSolution:
        network = self.spec.network
        sections, fwd = self.sample_and_forward(network, part, show_forward=False)
        memo = self.shown[self.sample_key(network, part)]
        names = part.wrt or self.params.names()
        if memo.backward is None:
            memo.backward = backward(network, self.params, fwd, self.spec.loss, f"p{part.number}.")
            memo.backward_part = part.number
            sections.append(Section("backward", self.backward_steps(network, fwd, memo.backward, names)))
        else:
            assert memo.backward_part is not None
            items = tuple((Partial(LOSS, _param_symbol(n)), memo.backward.gradients.tensor(n)) for n in names)
            sections.append(Section("recall_gradients", (Recall(memo.backward_part, items),)))
        sections.extend(self.update_sections(network, part, fwd, memo.backward, names))
        return PartSolution(part, tuple(sections))

    def replace_activation_part(self, part: Part) -> PartSolution:
        assert part.layer is not None and part.activation is not None
        network = self.spec.network.with_activation(part.layer, part.activation)
        prefix = f"p{part.number}."
        x, y = given_sample(part.sample, prefix)
        fwd = forward(network, self.params, x, y, self.spec.loss, prefix)
        bwd = backward(network, self.params, fwd, self.spec.loss, prefix)
        names = self.params.names()
        sections = [
            Section("replaced", (Identity(part.activation.identity, part.activation.prose),)),
            Section("givens", (Given(Sym("x"), column(x)), Given(Sym(TARGET.base), column(y)))),
            Section("forward", self.forward_steps(network, self.params, fwd)),
            Section("loss", (self.loss_step(fwd),)),
            Section("backward", self.backward_steps(network, fwd, bwd, names)),
            *self.update_sections(network, part, fwd, bwd, names),
        ]
        return PartSolution(part, tuple(sections), network_changed=True)

    # --- shared pieces --------------------------------------------------------------------

    def sample_key(self, network: Network, part: Part) -> tuple[int, int]:
        origin = part.sample_of or part.number
        while self.spec.parts[origin - 1].sample_of is not None:
            origin = self.spec.parts[origin - 1].sample_of or origin
        return id(network), origin

    def remember(self, part: Part, fwd: Forward) -> None:
        self.shown.setdefault(self.sample_key(self.spec.network, part), _Computed(part.number, fwd))

    def sample_and_forward(
        self, network: Network, part: Part, show_forward: bool = True
    ) -> tuple[list[Section], Forward]:
        """The forward pass of the part's sample: recalled when an earlier part showed it."""
        memo = self.shown.get(self.sample_key(network, part))
        if memo is not None:
            fwd = memo.forward
            if not show_forward:
                return [], fwd
            items: list[tuple[Symbolic, tuple[Vec, ...]]] = [
                (Sym("x"), column(fwd.inputs)),
                (Sym(TARGET.base), column(fwd.targets)),
            ]
            for l in range(1, len(network.layers) + 1):
                items.append((_tensor_symbol(network, l, "z"), column(fwd.z[l - 1])))
                items.append((_tensor_symbol(network, l, "a"), column(fwd.a[l - 1])))
            items.append((LOSS, ((fwd.loss,),)))
            return [Section("recall_forward", (Recall(memo.part, tuple(items)),))], fwd
        prefix = f"p{part.number}."
        x, y = given_sample(part.sample, prefix)
        fwd = forward(network, self.params, x, y, self.spec.loss, prefix)
        self.remember(part, fwd)
        return [
            Section("givens", (Given(Sym("x"), column(x)), Given(Sym(TARGET.base), column(y)))),
            Section("forward", self.forward_steps(network, self.params, fwd)),
            Section("loss", (self.loss_step(fwd),)),
        ], fwd

    def forward_steps(
        self, network: Network, params: Params, fwd: Forward, mark: Callable[[Sym], Symbolic] = plain
    ) -> tuple[Step, ...]:
        steps: list[Step] = []
        below: Tensor = Tensor(Sym("x"), column(fwd.inputs))
        for l, layer in enumerate(network.layers, 1):
            w = Tensor(mark(weight(l)), params.weights[l - 1])
            b = Tensor(mark(bias(l)), column(params.biases[l - 1]))
            z_symbol, a_symbol = mark(_tensor_symbol(network, l, "z")), mark(_tensor_symbol(network, l, "a"))
            z = fwd.z[l - 1]
            steps.append(Compute(z_symbol, Sum((Product((w, below)), b)), z, shape=(len(z), 1)))
            z_tensor = Tensor(z_symbol, column(z))
            steps.append(Compute(a_symbol, Apply(layer.activation, z_tensor), fwd.a[l - 1], shape=(len(z), 1)))
            below = Tensor(a_symbol, column(fwd.a[l - 1]))
        return tuple(steps)

    def loss_step(self, fwd: Forward, mark: Callable[[Sym], Symbolic] = plain) -> Compute:
        general = self.spec.loss.term(
            Tensor(mark(OUTPUT), column(fwd.output)), Tensor(Sym(TARGET.base), column(fwd.targets))
        )
        return Compute(fwd.loss.symbol, general if len(fwd.output) == 1 else None, (fwd.loss,), shape=(1, 1))

    def backward_steps(self, network: Network, fwd: Forward, bwd: Backward, names: Sequence[str]) -> tuple[Step, ...]:
        depth = len(network.layers)
        lowest = min(int(n[1:]) for n in names)
        steps: list[Step] = [Identity(self.spec.loss.identity, self.spec.loss.prose)]
        for act in dict.fromkeys(layer.activation for layer in network.layers[lowest - 1 :]):
            steps.append(Identity(act.identity, act.prose))
        yhat = Tensor(OUTPUT, column(fwd.output))
        d_out = Tensor(Partial(LOSS, OUTPUT), column(bwd.output))
        steps.append(
            Compute(
                d_out.symbol,
                self.spec.loss.gradient(yhat, Tensor(Sym(TARGET.base), column(fwd.targets))),
                bwd.output,
                number=1,
                shape=(len(bwd.output), 1),
            )
        )
        upstream = d_out
        for l in range(depth, lowest - 1, -1):
            layer = network.layers[l - 1]
            z = Tensor(_tensor_symbol(network, l, "z"), column(fwd.z[l - 1]))
            delta = Tensor(Sym("delta", l), column(bwd.delta[l - 1]))
            general = Hadamard(upstream, Derivative(layer.activation, z))
            steps.append(
                Compute(
                    delta.symbol,
                    general,
                    bwd.delta[l - 1],
                    number=2 if l == depth else 6,
                    shape=(len(z.entries or ()), 1),
                )
            )
            below_symbol = Sym("x") if l == 1 else _tensor_symbol(network, l - 1, "a")
            below = Tensor(below_symbol, column(fwd.layer_input(l)), transpose=True)
            if f"W{l}" in names:
                steps.append(_chain_rule(network, l, "w"))
                grads = bwd.gradients.weights[l - 1]
                steps.append(
                    Compute(
                        Partial(LOSS, weight(l)),
                        Product((delta, below)),
                        _flat(grads),
                        number=3,
                        shape=(len(grads), len(grads[0])),
                    )
                )
            if f"b{l}" in names:
                steps.append(_chain_rule(network, l, "b"))
                steps.append(
                    Compute(
                        Partial(LOSS, bias(l)),
                        delta,
                        bwd.gradients.biases[l - 1],
                        number=4,
                        shape=(len(bwd.gradients.biases[l - 1]), 1),
                    )
                )
            if l > lowest:
                w = Tensor(weight(l), self.params.weights[l - 1], transpose=True)
                d_a = bwd.activation[l - 2]
                steps.append(
                    Compute(Partial(LOSS, Sym("a", l - 1)), Product((w, delta)), d_a, number=5, shape=(len(d_a), 1))
                )
                upstream = Tensor(Partial(LOSS, Sym("a", l - 1)), column(d_a))
        return tuple(steps)

    def update_sections(
        self, network: Network, part: Part, fwd: Forward, bwd: Backward, names: Sequence[str]
    ) -> list[Section]:
        assert part.optimizer is not None and part.learning_rate is not None
        prefix = f"p{part.number}."
        rate = rate_quantity(part.learning_rate, prefix)
        new = step(self.params, bwd, part.optimizer, rate, names, prefix)
        steps: list[Step] = [Identity(part.optimizer.formula, part.optimizer.prose), Given(RATE, ((rate,),))]
        for name in names:
            symbol = _param_symbol(name)
            old, grads, after = self.params.tensor(name), bwd.gradients.tensor(name), new.tensor(name)
            general = part.optimizer.step(
                Tensor(symbol, old), Tensor(RATE, ((rate,),)), Tensor(Partial(LOSS, symbol), grads)
            )
            steps.append(Compute(Updated(symbol), general, _flat(after), shape=(len(after), len(after[0]))))
        after_fwd = forward(network, new, fwd.inputs, fwd.targets, self.spec.loss, prefix, mark=updated)
        return [
            Section("update", tuple(steps)),
            Section(
                "after_update",
                (*self.forward_steps(network, new, after_fwd, mark=updated), self.loss_step(after_fwd, mark=updated)),
            ),
        ]


def _param_symbol(name: str) -> Sym:
    """W^{(l)} or b^{(l)} from a parameter name such as ``W2``."""
    layer = int(name[1:])
    return weight(layer) if name[0] == "W" else bias(layer)


def _flat(matrix: Sequence[Sequence[Quantity]]) -> tuple[Quantity, ...]:
    return tuple(q for row in matrix for q in row)


def _tensor_symbol(network: Network, layer: int, kind: str) -> Sym:
    if kind == "a" and layer == len(network.layers):
        return OUTPUT
    return Sym(kind, layer)


def _chain_rule(network: Network, layer: int, kind: str) -> ChainRule:
    """∂L/∂θ as a product of partials for a generic entry θ of layer ``layer``.

    Through layers above that have a single unit the product is written out to ∂L/∂ŷ; where a
    layer above has several units the sum over them is what step 5 computes, so the chain
    starts at ∂L/∂a^{(l)}_j.
    """
    depth = len(network.layers)

    def unit(l: int, base: str, index: str) -> Sym:
        size = network.layers[l - 1].shape[0]
        if base == "a" and l == depth:
            return Sym(OUTPUT.base, None, (index,), hide_index=size == 1)
        return Sym(base, l, (index,), hide_index=size == 1)

    target = (
        Sym("w", layer, ("j", "k"))
        if kind == "w"
        else Sym("b", layer, ("j",), hide_index=network.layers[layer - 1].shape[0] == 1)
    )
    tail: list[Symbolic] = [
        Partial(unit(layer, "a", "j"), unit(layer, "z", "j")),
        Partial(unit(layer, "z", "j"), target),
    ]
    single_above = all(network.layers[l - 1].shape[0] == 1 for l in range(layer + 1, depth + 1))
    if layer == depth or not single_above:
        return ChainRule(Partial(LOSS, target), (Partial(LOSS, unit(layer, "a", "j")), *tail))
    factors: list[Symbolic] = [Partial(LOSS, unit(depth, "a", "i"))]
    for l in range(depth, layer, -1):
        factors.append(Partial(unit(l, "a", "i"), unit(l, "z", "i")))
        factors.append(Partial(unit(l, "z", "i"), unit(l - 1, "a", "j") if l - 1 == layer else unit(l - 1, "a", "i")))
    return ChainRule(Partial(LOSS, target), (*factors, *tail))
