"""Remote access: the desktop's end of the end-to-end encrypted channel through a relay.

No Flask here: the web layer hands in how to answer a REST call and how to open a socket.
"""
