"""Unit tests for badging.airflow.provider_info: Airflow, in this process, knows the Credly
connection."""

from __future__ import annotations

from airflow.providers_manager import ProvidersManager
from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

from badging.airflow.provider_info import get_provider_info
from badging.credly.hook import CredlyHook


def test_the_provider_info_names_the_hook_as_it_declares_itself():
    [connection] = get_provider_info()["connection-types"]
    assert connection["connection-type"] == CredlyHook.conn_type
    assert connection["hook-name"] == CredlyHook.hook_name
    module, _, name = connection["hook-class-name"].rpartition(".")
    assert (module, name) == (CredlyHook.__module__, CredlyHook.__name__)


def test_airflow_discovers_the_credly_connection_type_through_the_installed_entry_point():
    # Fails when the package is not installed (make install) or the entry point is missing.
    manager = ProvidersManager()
    assert "credly-badging" in manager.providers
    metadata = {m.connection_type: m for m in manager.iter_connection_type_hook_ui_metadata()}
    assert metadata["credly"].hook_name == "Credly"
    assert metadata["credly"].field_behaviour["relabeling"]["password"] == "Authorization token"


def test_a_task_gets_the_credly_hook_for_a_credly_connection():
    # What Connection.get_hook() uses in a task: the Task SDK's own provider registry.
    hooks = ProvidersManagerTaskRuntime().hooks
    assert hooks["credly"].hook_class_name == "badging.credly.hook.CredlyHook"
    assert hooks["credly"].connection_id_attribute_name == "credly_conn_id"
