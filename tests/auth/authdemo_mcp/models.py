from pydantic import BaseModel, ConfigDict


class NoArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")
