"""glasstorch.viz: see inside a program.

    with glasstorch.viz.trace() as t:      # every op: values, shapes, source line, gradients
        ...
    t.to_html("trace.html")                # source, graph and steps, linked, in one file

    glasstorch.viz.graph(loss).to_svg()    # the autograd graph behind a tensor
    print(glasstorch.viz.summary(model, (1, 784)))   # layers, output shapes, parameters
"""
from .render import Graph, graph
from .summary import summary
from .trace import Trace, summarize, trace

__all__ = ["trace", "Trace", "graph", "Graph", "summary", "summarize"]
