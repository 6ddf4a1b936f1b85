"""The Instagram Graph API wire format over the sandbox world (Instagram API with Facebook Login).

Requests made with an Instagram account's token reach :class:`archiver.sandbox.graph.GraphApi`,
which hands them to :func:`archiver.sandbox.instagram.api.handle`. Modules:

* ``ids``: Instagram ids for world items (invertible) and usernames for people;
* ``nodes``: the IG user, media, comment, conversation and message node types and their edges;
* ``api``: routing ``/{id}`` and ``/{id}/{edge}`` and validating the requested fields.
"""
