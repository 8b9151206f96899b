"""The node canvas: a QGraphicsScene that mirrors a GraphDocument and the view that edits it."""
