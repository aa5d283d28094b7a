"""Notifications: channels (Teams, Slack, e-mail, signed webhook) that incident notices reach.

incident_event(notice=Notice) --> deliveries.on_incident_event: one Delivery per channel
                                  --> task watch.deliver --> sending.send_delivery
"""
