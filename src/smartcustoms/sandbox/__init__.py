"""The sandbox: simulators and demonstration data, apart from the product.

Nothing the service runs imports this package (a layering contract and a start-up test check it):
it exists to feed the demo, the tests, the benchmarks and the offline training of the scan
detector with data made up on purpose.

====================  ===========================================================================
``traffic_simulator``  trucks on the corridors speaking real device protocols over real sockets
``scan_simulator``     containers, cargo, concealments and a linac scanner's detectors; the
                       reproducible training of the packaged concealment detector on them
``demo``               the demo's data: declarations lodged, scans stored, transits armed
====================  ===========================================================================
"""
