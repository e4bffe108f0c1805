# nginx, the load balancer in front of several `nmem serve` processes on one PostgreSQL log
# (tests/test_multi_server.py writes its own nginx.conf in a temp dir and runs nginx in the
# foreground on a free loopback port; nothing here starts or enables the Debian service).
apt_install nginx
