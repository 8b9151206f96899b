"""Training and seeing inside: run controls, live plots, gradient colours, step-through."""
