"""The consent app's pages: the performer's (``performer``) and the studio's (``studio``), with their forms."""
