"""The demo's data, each part through the product's own use cases (lodging, scan intake,
transit arming), so what the demo shows is what the product does.

``risk``      a trained model, targeting rules and declarations lodged for today
``scans``     simulated scans stored and analysed beside their declarations
``tracking``  corridors, devices and armed transits for the traffic simulator to drive
"""
