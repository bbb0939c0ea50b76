"""A real, private mini-cloud (MariaDB, RabbitMQ, Keystone, Heat).

Everything lives under one work directory: data, sockets, ports, logs.
No system service is used or touched.
"""
