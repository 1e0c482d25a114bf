data "aws_route53_zone" "internal" {
  name         = "orders.internal"
  private_zone = true
}

resource "aws_route53_record" "db" {
  zone_id = data.aws_route53_zone.internal.zone_id
  name    = "db.orders.internal"
  type    = "CNAME"
  ttl     = 300
  records = [module.database.endpoint]
}
