"""Pure computation for Creator ROI: plain values in, plain values out.

Nothing here touches Flask, a database session, the network or the disk, and
nothing here imports another package of ours, so every formula can be tested
on its own.
"""
