"""A Hugging Face `Trainer` run tracked by transformers' stock `MLflowCallback`, streaming per-step metrics.

Nothing in here knows about Runstream: the callback reads the same environment as with any MLflow server.

    export MLFLOW_TRACKING_URI=http://127.0.0.1:8080
    export MLFLOW_TRACKING_TOKEN=...            # only when Runstream has RUNSTREAM_API_TOKENS set
    pip install transformers torch accelerate   # ~3 GB download on Linux (PyPI's torch wheel pulls the CUDA libraries)
    python3 examples/huggingface_trainer.py

To stay offline (no Hugging Face hub at run time) the model is a TINY BERT built from a config -- one layer, hidden
size 32, random weights -- and the data is synthetic token ids: two "topics" that draw their tokens from different halves of the
vocabulary. That is learnable in a few dozen CPU steps, so the curves go somewhere.

With `report_to="mlflow"` and `logging_steps=1` the callback opens one MLflow run, logs the training arguments and the
model config as params (flattened: MLFLOW_FLATTEN_PARAMS), then at every optimizer step `loss`, `grad_norm`,
`learning_rate` and `epoch` at step=global_step, plus `eval_loss` / `eval_accuracy` after every epoch and the
`train_*` summary at the end. Checkpoints are not uploaded (HF_MLFLOW_LOG_ARTIFACTS=false, save_strategy="no").

Options: --experiment NAME (default $MLFLOW_EXPERIMENT_NAME or "hf-trainer-example"), --epochs N (default 3),
         --json (print a one-line JSON summary: run id and the steps of the logged loss history).
"""
import argparse
import json
import os
import tempfile

# What the Hugging Face side reads from the environment; set before transformers is imported. Values already in the
# environment win.
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub: everything here is built locally
os.environ.setdefault("HF_MLFLOW_LOG_ARTIFACTS", "false")  # do not upload checkpoints
os.environ.setdefault("MLFLOW_FLATTEN_PARAMS", "true")  # nested config dicts become params like id2label.0

import mlflow  # noqa: E402
import torch  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from torch.utils.data import Dataset  # noqa: E402
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments  # noqa: E402

VOCAB = 64
SEQ_LEN = 16
PAD, CLS, FIRST_WORD = 0, 1, 2


class TwoTopicsDataset(Dataset):
    """Synthetic "documents": label 1 draws most tokens from the lower half of the vocabulary, label 0 from the upper
    half; 40% of the tokens are noise from anywhere. Half the rows are positive."""

    def __init__(self, rows: int, seed: int):
        g = torch.Generator().manual_seed(seed)
        half = (VOCAB - FIRST_WORD) // 2
        labels = torch.arange(rows) % 2
        topical = torch.randint(0, half, (rows, SEQ_LEN), generator=g) + FIRST_WORD + half * (1 - labels)[:, None]
        noise = torch.randint(FIRST_WORD, VOCAB, (rows, SEQ_LEN), generator=g)
        ids = torch.where(torch.rand(rows, SEQ_LEN, generator=g) < 0.4, noise, topical)
        ids[:, 0] = CLS
        self.input_ids, self.labels = ids, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict:
        return {"input_ids": self.input_ids[i], "attention_mask": torch.ones(SEQ_LEN, dtype=torch.long), "labels": self.labels[i]}


def accuracy(eval_pred) -> dict:
    logits, labels = eval_pred
    return {"accuracy": float((logits.argmax(-1) == labels).mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", default=os.environ.get("MLFLOW_EXPERIMENT_NAME", "hf-trainer-example"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="also print a one-line JSON summary")
    args = parser.parse_args()
    os.environ["MLFLOW_EXPERIMENT_NAME"] = args.experiment  # MLflowCallback creates/selects the experiment from it

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=SEQ_LEN,
        num_labels=2,
        pad_token_id=PAD,
    )
    model = BertForSequenceClassification(config)
    train, evaluation = TwoTopicsDataset(256, seed=1), TwoTopicsDataset(64, seed=2)

    with tempfile.TemporaryDirectory() as out:
        training_args = TrainingArguments(
            output_dir=out,
            run_name="tiny-bert-two-topics",
            report_to="mlflow",
            num_train_epochs=args.epochs,
            per_device_train_batch_size=16,  # 256 rows -> 16 steps per epoch
            per_device_eval_batch_size=64,
            learning_rate=3e-3,
            warmup_steps=5,
            weight_decay=0.01,
            logging_strategy="steps",
            logging_steps=1,  # loss / learning_rate / grad_norm / epoch at every optimizer step
            eval_strategy="epoch",
            save_strategy="no",
            use_cpu=True,
            seed=0,
            disable_tqdm=True,
            dataloader_num_workers=0,
        )
        trainer = Trainer(model=model, args=training_args, train_dataset=train, eval_dataset=evaluation, compute_metrics=accuracy)
        result = trainer.train()  # MLflowCallback starts the run on train begin and ends it on train end

    run = mlflow.last_active_run()
    client = MlflowClient()
    loss = sorted(client.get_metric_history(run.info.run_id, "loss"), key=lambda m: m.step)
    evals = sorted(client.get_metric_history(run.info.run_id, "eval_accuracy"), key=lambda m: m.step)
    print(f"run {run.info.run_id} ({run.info.run_name}) in experiment {run.info.experiment_id}: {result.global_step} steps")
    print(f"  loss: {len(loss)} points, step {loss[0].step} -> {loss[-1].step}, {loss[0].value:.4f} -> {loss[-1].value:.4f}")
    print("  eval_accuracy per epoch: " + ", ".join(f"step {m.step}: {m.value:.3f}" for m in evals))
    if args.json:
        print(
            json.dumps(
                {
                    "run_id": run.info.run_id,
                    "experiment_id": run.info.experiment_id,
                    "global_step": result.global_step,
                    "loss_steps": [m.step for m in loss],
                    "first_loss": loss[0].value,
                    "last_loss": loss[-1].value,
                    "eval_accuracy": [m.value for m in evals],
                }
            )
        )


if __name__ == "__main__":
    main()
