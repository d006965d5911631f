"""Device listeners: asyncio TCP, UDP and HTTP servers per protocol, and an MQTT subscriber.

Every listener does the same four things, whatever the transport: cut frames (TCP only; a UDP
datagram, an HTTP request and an MQTT message are already one), decode them, hand the records
to the ingest writer (:class:`smartcustoms.tracking.ingest.Ingestor`), and answer the device
only when the writer says they are committed. A frame that does not decode is counted and
logged with the device and its byte offset in the connection's stream; the connection and the
listener carry on.

``spec``     listener specifications (``gt06:tcp:5023``) and counters
``stream``   TCP connections, and HTTP (OsmAnd) on top of them
``datagram`` UDP
``mqtt``     the MQTT subscriber (``mqtt_scheme`` has the topics)
``server``   running a set of listeners with one writer (``smartcustoms tracking listen``)
"""
