"""Small shared utilities (image reading, boxes, checkpoints, seeding)."""
