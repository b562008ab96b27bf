"""Handoffs analytics layer."""
