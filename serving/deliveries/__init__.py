"""Deliveries to the provincial platforms: packages per period, the outbox, the sender (issue 15).

``packages`` builds one package per recipient × dataset × period (payload and signed manifest in
the lake under ``exchange/``, a row in the outbox); ``sender`` leases due packages and POSTs them
through a ``transport`` adapter, signed as in ``signing``; the state lives in the security
layer's database (``security/outbox.py``). README "Deliveries" describes the model.
"""
