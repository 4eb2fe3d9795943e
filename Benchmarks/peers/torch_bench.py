"""W1–W3 in PyTorch on the CPU with Canopy's initial parameters and data; see common.py for the protocol.
    python torch_bench.py --workload w1 --data .scratch/data/w1 --params .scratch/w1-initial.safetensors --batch 128
Parameters keep Canopy's names and PyTorch's layouts (dense [out, in], conv [F, C, KH, KW])."""
import torch
import torch.nn.functional as F

import common


def linear(P, name, x):
    return F.linear(x, P[name + ".weight"], P[name + ".bias"])


def forward(workload, P, x):
    """Each task's output, in model-file order."""
    if workload == "w1":
        h = F.relu(linear(P, "shared.2", F.relu(linear(P, "shared.0", x))))
        return [linear(P, "tasks.a.head.0", h), linear(P, "tasks.b.head.0", h)]
    if workload == "w2":
        h = F.max_pool2d(F.relu(F.conv2d(x, P["shared.0.weight"], P["shared.0.bias"], padding=1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, P["shared.3.weight"], P["shared.3.bias"], padding=1)), 2)
        h = F.relu(linear(P, "shared.7", h.flatten(1)))
        return [linear(P, "tasks.a.head.0", h), linear(P, "tasks.b.head.0", h)]
    experts = torch.stack([F.relu(linear(P, f"experts.{e}.0", x)) for e in range(8)], dim=1)  # [B, 8, 64]
    outputs = []
    for task in ("y1", "y2"):
        gate = torch.softmax(linear(P, f"gates.{task}", x), dim=1)                              # [B, 8]
        mixed = torch.bmm(gate.unsqueeze(1), experts).squeeze(1)                                # [B, 64]
        head = f"tasks.{task}.head"
        outputs.append(linear(P, head + ".2", F.relu(linear(P, head + ".0", mixed))))
    return outputs


def main():
    args = common.parse_args()
    torch.set_num_threads(args.threads)
    tasks = common.TASKS[args.workload]

    def build(params, batches):
        P = {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}
        data = [(torch.from_numpy(x), [torch.from_numpy(y) for y in ys]) for x, ys in batches]
        return P, torch.optim.Adam(P.values(), lr=common.LEARNING_RATE), data

    def step(state, index, want):
        P, optimizer, data = state
        x, ys = data[index]
        optimizer.zero_grad(set_to_none=True)
        losses = [F.cross_entropy(out, y) if classes else F.mse_loss(out[:, 0], y)
                  for out, y, (_, classes) in zip(forward(args.workload, P, x), ys, tasks)]
        sum(losses).backward()
        optimizer.step()
        return state, ([loss.item() for loss in losses] if want else None)

    common.measure("pytorch", "torch " + torch.__version__, args, build, step, lambda state: None)


if __name__ == "__main__":
    main()
