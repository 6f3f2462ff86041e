"""Network: addresses in messages and flows, flows by protocol and over time, owners, map, TI lookups."""

from __future__ import annotations

import streamlit as st

from hunting.analysis.network import flows_over_time, ips_of_owners, messages_mentioning
from ui.charts import bar_counts, volume_chart
from ui.context import explain_empty, sidebar
from ui.icons import page_icon
from ui.maps import interactive_map, world_map
from ui.network_views import (
    flows_naming,
    geo_data,
    hunt_network,
    run_lookups,
    show_ti_results,
    ti_controls,
    whois_panel,
)
from ui.safe import md

st.set_page_config(page_title="Network", page_icon=page_icon("lan"), layout="wide")
hunt = sidebar()
st.title("Network")
st.caption(
    f"Addresses named in {md(hunt.host)}'s syslog messages and in its flow records "
    f"(AzureNetworkAnalytics_CL), {hunt.tr.label()}. Times are UTC."
)

data = hunt_network(hunt)
for err in data.errors:
    st.error(f"Could not read {md(err, 400)}")
activity = data.activity
if activity.empty and data.flows.empty:
    explain_empty(hunt, "addresses in messages or flow records", "Syslog", "NetworkFlows")
    st.stop()

m1, m2, m3, m4 = st.columns(4)
m1.metric("Addresses seen", f"{len(activity):,}")
m2.metric("Public addresses", f"{int(activity['IsPublic'].sum()):,}")
m3.metric("Flow records", f"{len(data.flows):,}")
m4.metric("Messages naming an address", f"{data.mentions['Row'].nunique():,}")

st.subheader("Addresses seen")
st.caption(
    "Counts are messages (syslog) and flow records; *Scope* marks private, loopback, documentation and "
    "other non-public addresses, which are listed but never sent to online providers."
)
st.dataframe(activity, hide_index=True, key="net_activity")

st.subheader("Flows")
if data.flows.empty:
    explain_empty(hunt, "flow records", "NetworkFlows")
else:
    summary = data.flow_summary
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**By protocol and direction** (flows)")
        st.altair_chart(
            bar_counts(summary, category="L7Protocol", value="Flows", color="FlowDirection"), width="stretch"
        )
    with c2:
        group = st.radio(
            "Flows over time by",
            ["FlowDirection", "L7Protocol", "FlowType", "direction+protocol"],
            format_func={
                "FlowDirection": "direction",
                "L7Protocol": "protocol",
                "FlowType": "flow type",
                "direction+protocol": "direction and protocol",
            }.__getitem__,
            horizontal=True,
            key="net_flow_group",
        )
        volume = flows_over_time(data.flows, bucket_seconds=3600, by=group)
        st.altair_chart(volume_chart(volume, key_title="Flows by"), width="stretch")
    st.dataframe(summary, hide_index=True, key="net_flow_summary")

st.subheader("Owners and locations")
public = activity[activity["IsPublic"].astype(bool)]
if public.empty:
    st.info("No public addresses: owners and locations apply to public addresses only.")
    geo = None
else:
    geo, owners = geo_data(tuple(public["Ip"].astype(str)))
    st.caption(
        "Owner (AS) and country from the offline GeoLite2 data bundled with geoip2fast; map points are country centroids."
    )
    if owners["Asn"].isna().all():  # the offline data names owners but has no AS numbers
        owners = owners.drop(columns=["Asn"])
    st.dataframe(owners, hide_index=True, key="net_owners_table")
    points = public.merge(geo, on="Ip", how="left")
    points = points.assign(Count=points["SyslogMessages"].astype(int) + points["FlowRecords"].astype(int))
    points = points[["Ip", "SeenIn", "Count", "CountryName", "AsnOwner", "Latitude", "Longitude"]]
    located = points.dropna(subset=["Latitude", "Longitude"])
    tab_map, tab_live, tab_table = st.tabs(["World map", "Interactive map", "Table"])
    with tab_map:
        st.altair_chart(world_map(located, color="SeenIn"), width="stretch")
        if len(points) > len(located):
            st.caption(f"{len(points) - len(located)} public address(es) have no known country.")
    with tab_live:
        interactive_map(located, color="SeenIn", key="net_folium")
    with tab_table:
        st.dataframe(points, hide_index=True)

st.subheader("Threat intelligence")
setup = ti_controls(hunt, "net")
if geo is not None and setup.providers:
    owner_names = sorted(geo["AsnOwner"].dropna().astype(str).unique())
    chosen = st.multiselect("Look up the addresses of these owners (AS)", owner_names, key="net_owner_pick")
    targets = ips_of_owners(geo, chosen)
    if st.button(f"Look up {len(targets)} address(es)", key="net_owner_lookup", disabled=not targets):
        st.session_state["net_owner_results"] = run_lookups(targets, setup, f"{len(targets)} address(es)")
    results = st.session_state.get("net_owner_results")
    if results is not None:
        show_ti_results(results, "net_owner")

st.subheader("One address")
ips = activity["Ip"].astype(str).tolist()
wanted = st.query_params.get("ip")  # a Findings link's hint (read here: AppTest does not bind the URL)
if wanted and "net_ip" not in st.session_state:
    if wanted in ips:
        st.session_state["net_ip"] = wanted
    else:
        st.info(f"The link asked for {md(wanted)}: no log or flow names it in {hunt.tr.label()}.")
ip = st.selectbox("Address", ips, index=None, placeholder="Choose an address", key="net_ip")
if ip:
    row = activity[activity["Ip"] == ip].iloc[0]
    scope = str(row["Scope"])
    st.caption(f"Scope: {md(scope)} · seen in {md(row['SeenIn'])}")
    messages = messages_mentioning(data.syslog, ip)
    st.markdown(f"**Messages that name {md(ip)}** ({len(messages):,})")
    if messages.empty:
        st.info("No syslog message names this address (it is only in flow records).")
    else:
        st.dataframe(
            messages[["TimeGenerated", "ProcessName", "ProcessID", "SyslogMessage"]],
            hide_index=True,
            key="net_ip_messages",
        )
    ip_flows = flows_naming(data.flows, ip)
    st.markdown(f"**Flow records to or from {md(ip)}** ({len(ip_flows):,})")
    if ip_flows.empty:
        st.info(
            "No flow record names this address in this range (flow logs cover Azure VMs with NSG flow logging only)."
        )
    else:
        st.dataframe(ip_flows, hide_index=True, key="net_ip_flows")
    if setup.providers:
        cache = st.session_state.setdefault("net_ip_results", {})
        names = tuple(p.name for p in setup.providers)
        if (ip, names) not in cache or st.button("Look up again", key="net_ip_again"):
            kind = "ipv6" if ":" in ip else "ipv4"
            cache[(ip, names)] = run_lookups([(ip, kind)], setup, ip)
        st.markdown("**Threat intelligence**")
        show_ti_results(cache[(ip, names)], "net_ip")
    whois_panel(ip, "net_whois")
