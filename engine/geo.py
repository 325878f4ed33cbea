"""Great-circle distances on a sphere of radius 6371.009 km (geopy's ``great_circle``)."""

from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_KM = 6371.009


def unit_vectors(latitudes: np.ndarray, longitudes: np.ndarray) -> np.ndarray:
    """Points in degrees as unit vectors on the sphere, shape ``(n, 3)``."""
    lat = np.radians(np.asarray(latitudes, dtype=np.float64))
    lon = np.radians(np.asarray(longitudes, dtype=np.float64))
    cos_lat = np.cos(lat)
    return np.stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)], axis=-1)


def distances_km(
    latitudes: np.ndarray, longitudes: np.ndarray, latitude: float, longitude: float
) -> np.ndarray:
    """Great-circle distances from many points to one, by the haversine-arctan formula.

    This is the formula of geopy's ``great_circle`` (numerically stable for tiny and
    antipodal distances), vectorised.
    """
    lat1 = np.radians(latitudes)
    lat2 = math.radians(latitude)
    delta_lng = np.radians(longitude - np.asarray(longitudes, dtype=np.float64))
    sin_lat1, cos_lat1 = np.sin(lat1), np.cos(lat1)
    sin_lat2, cos_lat2 = math.sin(lat2), math.cos(lat2)
    sin_delta, cos_delta = np.sin(delta_lng), np.cos(delta_lng)
    d = np.arctan2(
        np.sqrt(
            (cos_lat2 * sin_delta) ** 2
            + (cos_lat1 * sin_lat2 - sin_lat1 * cos_lat2 * cos_delta) ** 2
        ),
        sin_lat1 * sin_lat2 + cos_lat1 * cos_lat2 * cos_delta,
    )
    return EARTH_RADIUS_KM * d


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points in km."""
    return float(distances_km(np.array([lat1]), np.array([lon1]), lat2, lon2)[0])
