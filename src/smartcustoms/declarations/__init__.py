"""Goods declarations modelled on the WCO Data Model: the model, validation, storage and import."""
