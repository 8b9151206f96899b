"""QUndoCommands: each one a thin wrapper over one reversible document mutation.

``redo`` applies the mutation and keeps the inverse the document returns; ``undo`` applies that
inverse. Consecutive edits of the same parameter (or training setting) merge into one command,
so typing ``128`` is one undo step; an edit typed back to the original value drops out.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QUndoCommand

from app.graph.blocks.mutations import EditBlock
from app.graph.document import GraphDocument
from app.graph.mutations import Mutation, SetLabel, SetParam, SetSetting

MERGE_ID = 0x6E67  # "ng": every mergeable command shares one id; merge_key decides the rest


def merge_key(mutation: Mutation) -> tuple[Any, ...] | None:
    """What two consecutive mutations must share to merge (None: never merges); an edit inside
    a block merges with the next edit of the same field inside the same block."""
    if isinstance(mutation, EditBlock):
        inner = merge_key(mutation.mutation)
        return None if inner is None else ("block", mutation.name, *inner)
    if isinstance(mutation, SetParam):
        return ("param", mutation.node_id, mutation.name)
    if isinstance(mutation, SetSetting):
        return ("setting", mutation.name)
    if isinstance(mutation, SetLabel):
        return ("label", mutation.node_id)
    return None


class MutationCommand(QUndoCommand):
    """One undo step: ``mutation`` and the inverse the document gave back for it.

    Parameters
    ----------
    document : GraphDocument
        The document the mutation applies to.
    mutation : Mutation
        The edit.
    inverse : Mutation or None
        When the caller already applied ``mutation`` (to report a refusal before pushing), the
        inverse it got; the first ``redo`` (run by ``QUndoStack.push``) then does nothing.
    text : str or None
        The undo menu text; ``mutation.describe()`` by default.
    path : tuple of str or None
        The block path the canvas showed when the edit was made (``()``: the graph; None for
        an edit of no graph, e.g. a training setting): undo and redo show it again.
    """

    def __init__(
        self,
        document: GraphDocument,
        mutation: Mutation,
        inverse: Mutation | None = None,
        text: str | None = None,
        path: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(text or mutation.describe())
        self.path = path
        self.document = document
        self.mutation = mutation
        self.inverse = inverse
        self._applied = inverse is not None

    def redo(self) -> None:
        """Apply the mutation (unless the caller just did)."""
        if self._applied:
            self._applied = False
            return
        self.inverse = self.document.apply(self.mutation)

    def undo(self) -> None:
        """Apply the inverse."""
        assert self.inverse is not None
        self.document.apply(self.inverse)

    def id(self) -> int:
        """The shared merge id for parameter, label and setting edits; -1 for the rest."""
        return MERGE_ID if merge_key(self.mutation) is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        """Absorb the next edit of the same field; become obsolete when back to the start."""
        if (
            not isinstance(other, MutationCommand)
            or other.document is not self.document
            or merge_key(other.mutation) != merge_key(self.mutation)
        ):
            return False
        self.mutation = other.mutation
        self.setText(other.text())
        if _value(self.inverse) == _value(self.mutation):
            self.setObsolete(True)
        return True


def _value(mutation: Mutation | None) -> Any:
    """The value a SetParam/SetSetting/SetLabel writes (also inside a block)."""
    if isinstance(mutation, EditBlock):
        return _value(mutation.mutation)
    if isinstance(mutation, SetLabel):
        return mutation.label
    return getattr(mutation, "value", object())
