"""W1–W3 in JAX on the CPU (XLA; the whole training step, forward, backward and Adam, is one jitted function)
with Canopy's initial parameters and data; see common.py for the protocol.
    python jax_bench.py --workload w1 --data .scratch/data/w1 --params .scratch/w1-initial.safetensors --batch 128
Parameters keep Canopy's names and PyTorch's layouts (dense [out, in], conv [F, C, KH, KW]); Adam is written out
(PyTorch's defaults: betas 0.9, 0.999, eps 1e-8, bias correction) so that no optimizer library is needed."""
import os
import sys


def configure_threads():
    threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else str(os.cpu_count())
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=true "
                               f"intra_op_parallelism_threads={threads}").strip()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


configure_threads()  # before jax is imported

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import common  # noqa: E402


def linear(P, name, x):
    return x @ P[name + ".weight"].T + P[name + ".bias"]


def conv(P, name, x):
    y = jax.lax.conv_general_dilated(x, P[name + ".weight"], (1, 1), [(1, 1), (1, 1)],
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return y + P[name + ".bias"][None, :, None, None]


def maxpool(x):
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")


def forward(workload, P, x):
    """Each task's output, in model-file order."""
    relu = jax.nn.relu
    if workload == "w1":
        h = relu(linear(P, "shared.2", relu(linear(P, "shared.0", x))))
        return [linear(P, "tasks.a.head.0", h), linear(P, "tasks.b.head.0", h)]
    if workload == "w2":
        h = maxpool(relu(conv(P, "shared.0", x)))
        h = maxpool(relu(conv(P, "shared.3", h)))
        h = relu(linear(P, "shared.7", h.reshape(h.shape[0], -1)))
        return [linear(P, "tasks.a.head.0", h), linear(P, "tasks.b.head.0", h)]
    experts = jnp.stack([relu(linear(P, f"experts.{e}.0", x)) for e in range(8)], axis=1)  # [B, 8, 64]
    outputs = []
    for task in ("y1", "y2"):
        gate = jax.nn.softmax(linear(P, f"gates.{task}", x), axis=1)
        mixed = jnp.einsum("be,bef->bf", gate, experts)
        head = f"tasks.{task}.head"
        outputs.append(linear(P, head + ".2", relu(linear(P, head + ".0", mixed))))
    return outputs


def main():
    args = common.parse_args()
    tasks = common.TASKS[args.workload]

    def task_losses(P, x, ys):
        losses = []
        for out, y, (_, classes) in zip(forward(args.workload, P, x), ys, tasks):
            if classes:
                logp = jax.nn.log_softmax(out, axis=1)
                losses.append(-jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1)))
            else:
                losses.append(jnp.mean((out[:, 0] - y) ** 2))
        return sum(losses), jnp.stack(losses)

    def train_step(P, m, v, t, x, ys):
        (_, losses), g = jax.value_and_grad(task_losses, has_aux=True)(P, x, ys)
        t = t + 1
        b1, b2, eps, lr = 0.9, 0.999, 1e-8, common.LEARNING_RATE
        m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
        v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t
        P = jax.tree_util.tree_map(lambda p, m, v: p - lr * (m / c1) / (jnp.sqrt(v / c2) + eps), P, m, v)
        return P, m, v, t, losses

    jitted = jax.jit(train_step, donate_argnums=(0, 1, 2))

    def build(params, batches):
        P = {name: jnp.asarray(value) for name, value in params.items()}
        def zeros():
            return {name: jnp.zeros_like(value) for name, value in P.items()}
        data = [(jax.device_put(x), [jax.device_put(y.astype("int32") if c else y) for y, (_, c) in zip(ys, tasks)])
                for x, ys in batches]
        return P, zeros(), zeros(), jnp.float32(0), data, None

    def step(state, index, want):
        P, m, v, t, data, _ = state
        x, ys = data[index]
        P, m, v, t, losses = jitted(P, m, v, t, x, ys)
        return (P, m, v, t, data, losses), (list(jax.device_get(losses)) if want else None)

    def sync(state):
        jax.block_until_ready(state[0])

    common.measure("jax", "jax " + jax.__version__, args, build, step, sync)


if __name__ == "__main__":
    main()
