"""The noise schedule shared by training, the reference sampler and the exported manifest."""
import torch

TRAIN_TIMESTEPS = 1000
BETA_START, BETA_END, BETA_SCHEDULE = 1e-4, 0.02, "linear"
PREDICTION_TYPE = "epsilon"


def betas() -> torch.Tensor:
    return torch.linspace(BETA_START, BETA_END, TRAIN_TIMESTEPS, dtype=torch.float64)


def alphas_cumprod() -> torch.Tensor:
    return torch.cumprod(1.0 - betas(), dim=0)


def scheduler_config() -> dict:
    return {"num_train_timesteps": TRAIN_TIMESTEPS, "beta_start": BETA_START,
            "beta_end": BETA_END, "beta_schedule": BETA_SCHEDULE,
            "prediction_type": PREDICTION_TYPE}
