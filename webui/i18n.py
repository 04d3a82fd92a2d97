"""A small Vietnamese/English message catalogue and the choice of language per request.

Messages are kept side by side, one entry per message id with both languages, so a missing
translation is visible at a glance (and caught by a test). A later issue moves this to
Flask-Babel; message ids then become msgids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LANGUAGES: tuple[str, ...] = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
COOKIE_NAME = "lang"

MESSAGES: Mapping[str, Mapping[str, str]] = {
    # --- general -----------------------------------------------------------------------
    "app_title": {"vi": "Kế hoạch xe thư viện lưu động",
                  "en": "Mobile library trip planner"},
    "app_subtitle": {"vi": "Luân chuyển sách cho các xã vùng cao phía Bắc",
                     "en": "Book rotation for the northern mountain communes"},
    "language": {"vi": "Ngôn ngữ", "en": "Language"},
    "nav_plans": {"vi": "Kế hoạch", "en": "Plans"},
    "nav_jobs": {"vi": "Lập kế hoạch mới", "en": "New plan"},
    "print": {"vi": "In phiếu", "en": "Print"},
    "back_to_plan": {"vi": "Quay lại kế hoạch", "en": "Back to the plan"},
    "back_to_plans": {"vi": "Danh sách kế hoạch", "en": "All plans"},
    "attribution_osm": {"vi": "© OpenStreetMap contributors", "en": "© OpenStreetMap contributors"},
    "attribution_odbl": {"vi": "Dữ liệu đường và ranh giới © OpenStreetMap contributors, "
                                "giấy phép ODbL 1.0.",
                         "en": "Road and outline data © OpenStreetMap contributors, "
                               "licensed under the ODbL 1.0."},
    "sources": {"vi": "Nguồn dữ liệu", "en": "Data sources"},
    "yes": {"vi": "có", "en": "yes"},
    "no": {"vi": "không", "en": "no"},
    # --- errors ------------------------------------------------------------------------
    "error": {"vi": "Lỗi", "en": "Error"},
    "error_404": {"vi": "Không tìm thấy trang", "en": "Page not found"},
    "error_400": {"vi": "Yêu cầu không hợp lệ", "en": "Bad request"},
    "error_409": {"vi": "Không thực hiện được", "en": "Cannot do that now"},
    "error_500": {"vi": "Lỗi máy chủ", "en": "Server error"},
    "unknown_plan": {"vi": "Không có kế hoạch nào tên {name}.",
                     "en": "There is no plan named {name}."},
    "unknown_vehicle": {"vi": "Kế hoạch {run} không có xe {vehicle}.",
                        "en": "Plan {run} has no vehicle {vehicle}."},
    "unknown_job": {"vi": "Không có tác vụ {job}.", "en": "There is no job {job}."},
    "unknown_scenario": {"vi": "Không có kịch bản {name} trong thư mục kịch bản.",
                         "en": "There is no scenario {name} in the scenarios folder."},
    "bad_time_limit": {"vi": "Giới hạn thời gian phải là số giây từ 1 đến {max}.",
                       "en": "The time limit must be a number of seconds from 1 to {max}."},
    "job_not_running": {"vi": "Tác vụ {job} đã kết thúc, không thể hủy.",
                        "en": "Job {job} has already finished; it cannot be cancelled."},
    "plan_unreadable": {"vi": "Không đọc được kế hoạch", "en": "The plan cannot be read"},
    # --- plan list ---------------------------------------------------------------------
    "plans_title": {"vi": "Các kế hoạch đã lập", "en": "Plans"},
    "plans_empty": {"vi": "Chưa có kế hoạch nào trong {folder}. Hãy lập kế hoạch mới.",
                    "en": "No plans in {folder} yet. Start a new plan."},
    "plan": {"vi": "Kế hoạch", "en": "Plan"},
    "dates": {"vi": "Thời gian", "en": "Dates"},
    "created": {"vi": "Lập lúc", "en": "Created"},
    "open": {"vi": "Mở", "en": "Open"},
    # --- KPIs --------------------------------------------------------------------------
    "kpis": {"vi": "Chỉ số chính", "en": "Key figures"},
    "communes_served": {"vi": "Số xã được phục vụ", "en": "Communes served"},
    "communes_unserved": {"vi": "Số xã chưa phục vụ được", "en": "Communes not served"},
    "share_of_area": {"vi": "{served}/{total} xã của vùng phục vụ ({share})",
                      "en": "{served} of the {total} communes of the service area ({share})"},
    "trips": {"vi": "Số chuyến xe", "en": "Trips"},
    "total_km": {"vi": "Tổng quãng đường", "en": "Total distance"},
    "driving_hours": {"vi": "Tổng giờ lái xe", "en": "Total driving time"},
    "trip_days": {"vi": "Số ngày-xe", "en": "Vehicle days"},
    "nights_away": {"vi": "Số đêm nghỉ ngoài", "en": "Nights away"},
    "crates_out_in": {"vi": "Thùng sách giao / thu về", "en": "Crates delivered / collected"},
    "targets": {"vi": "Tiến độ so với mục tiêu của chương trình",
                "en": "Progress toward the programme targets"},
    "target_line": {"vi": "Mục tiêu {year}: {target} số xã ({needed} xã)",
                    "en": "Target {year}: {target} of communes ({needed} communes)"},
    "target_met": {"vi": "đã đạt", "en": "met"},
    "target_missing": {"vi": "còn thiếu {n} xã", "en": "{n} communes short"},
    # --- plan page ---------------------------------------------------------------------
    "map": {"vi": "Bản đồ", "en": "Map"},
    "map_open": {"vi": "Mở bản đồ toàn màn hình", "en": "Open the map full screen"},
    "routes": {"vi": "Lộ trình các xe", "en": "Routes"},
    "route_sheet": {"vi": "Phiếu lộ trình", "en": "Route sheet"},
    "route_sheet_for": {"vi": "Phiếu lộ trình xe {vehicle}", "en": "Route sheet, {vehicle}"},
    "vehicle": {"vi": "Xe", "en": "Vehicle"},
    "driver": {"vi": "Lái xe", "en": "Driver"},
    "capacity": {"vi": "Sức chứa", "en": "Capacity"},
    "depot": {"vi": "Điểm xuất phát", "en": "Depot"},
    "depart": {"vi": "Xuất phát", "en": "Departure"},
    "return": {"vi": "Về đến", "en": "Back at"},
    "stops": {"vi": "Điểm dừng", "en": "Stops"},
    "order": {"vi": "TT", "en": "No."},
    "commune": {"vi": "Xã", "en": "Commune"},
    "day": {"vi": "Ngày", "en": "Day"},
    "arrival": {"vi": "Đến", "en": "Arrival"},
    "departure": {"vi": "Rời đi", "en": "Departure"},
    "deliver": {"vi": "Giao", "en": "Deliver"},
    "collect": {"vi": "Thu về", "en": "Collect"},
    "load_after": {"vi": "Trên xe sau điểm", "en": "Load after stop"},
    "leg_km": {"vi": "Km chặng", "en": "Leg km"},
    "leg_hours": {"vi": "Giờ lái chặng", "en": "Leg driving"},
    "crates": {"vi": "thùng", "en": "crates"},
    "n_days": {"vi": "{n} ngày", "en": "{n} days"},
    "crates_n": {"vi": "{n} thùng", "en": "{n} crates"},
    "km": {"vi": "km", "en": "km"},
    "hours": {"vi": "Giờ lái", "en": "Driving"},
    "duration": {"vi": "Tổng thời gian", "en": "Duration"},
    "days_nights": {"vi": "{days} ngày, {nights} đêm", "en": "{days} days, {nights} nights"},
    "return_leg": {"vi": "Chặng về", "en": "Return leg"},
    "return_to": {"vi": "Về {depot}", "en": "Back to {depot}"},
    "no_visits": {"vi": "Xe này không có chuyến trong kế hoạch.",
                  "en": "This vehicle has no trip in the plan."},
    "day_offset": {"vi": "+{n} ngày", "en": "+{n} day"},
    "day_offset_plural": {"vi": "+{n} ngày", "en": "+{n} days"},
    "day_offset_help": {"vi": "“+1 ngày” = ngày thứ hai của chuyến đi, tính từ ngày xuất phát.",
                        "en": "“+1 day” = the trip's second day, counted from the departure "
                              "day."},
    "night_before": {"vi": "Nghỉ đêm tại điểm trước, sáng hôm sau mới đi chặng này.",
                     "en": "Overnight at the previous place; this leg is driven the next "
                           "morning."},
    "nights_on_road": {"vi": "Nghỉ {n} đêm dọc đường trong chặng này.",
                       "en": "{n} night(s) on the road during this leg."},
    "unserved": {"vi": "Xã chưa được phục vụ", "en": "Communes not served"},
    "unserved_none": {"vi": "Mọi xã trong kịch bản đều được phục vụ.",
                      "en": "Every commune of the scenario is served."},
    "reason": {"vi": "Lý do", "en": "Reason"},
    "required": {"vi": "Bắt buộc", "en": "Required"},
    "data_notes": {"vi": "Ghi chú về dữ liệu (dữ liệu gần đúng)",
                   "en": "Data notes (approximate data)"},
    "notes_in_english": {"vi": "Ghi chú gốc bằng tiếng Anh, lấy từ bộ dữ liệu và kịch bản:",
                         "en": "Notes from the dataset and the scenario:"},
    "assumptions": {"vi": "Giả định của kịch bản", "en": "Scenario assumptions"},
    "provenance": {"vi": "Nguồn gốc lời giải", "en": "How this plan was made"},
    "solver_line": {"vi": "Bộ giải: {status}, giá trị mục tiêu {objective}, {seconds} giây, "
                          "hạt giống {seed}.",
                    "en": "Solver: {status}, objective {objective}, {seconds} s, seed {seed}."},
    "approximate_position": {"vi": "Vị trí gần đúng", "en": "Approximate position"},
    # --- reasons for unserved communes (planner.explain reason codes) --------------------
    "reason_unreachable": {"vi": "Không có đường cho xe của đội đến được xã này.",
                           "en": "No road usable by the fleet's vehicles reaches it."},
    "reason_capacity": {"vi": "Cần nhiều thùng sách hơn sức chứa của mọi xe.",
                        "en": "It needs more crates than any vehicle carries."},
    "reason_direct_trip": {"vi": "Ngay cả một chuyến riêng đến xã này cũng không vừa khung "
                                 "giờ, ca làm việc và số ngày.",
                           "en": "Not even a trip to this commune alone fits the windows, "
                                 "shifts and days."},
    "reason_no_room_capacity": {"vi": "Không chèn được vào chuyến nào: xe không còn chỗ.",
                                "en": "It fits in no trip: the vehicles are full."},
    "reason_no_room_time": {"vi": "Không chèn được vào chuyến nào: không đủ thời gian.",
                            "en": "It fits in no trip: not enough time."},
    "reason_not_worth_priority": {"vi": "Có thể chèn vào nhưng bộ giải thấy không đáng so với "
                                        "mức ưu tiên.",
                                  "en": "It could be added, but the solver judged it not worth "
                                        "its priority."},
    "reason_search_limit": {"vi": "Có thể phục vụ được; hãy cho bộ giải chạy lâu hơn.",
                            "en": "It can be served; give the solver more time."},
    # --- road classes (OpenMapTiles) for unnamed roads in directions -------------------
    "road_motorway": {"vi": "đường cao tốc", "en": "motorway"},
    "road_trunk": {"vi": "đường trục chính", "en": "trunk road"},
    "road_primary": {"vi": "đường chính", "en": "main road"},
    "road_secondary": {"vi": "đường tỉnh/huyện", "en": "secondary road"},
    "road_tertiary": {"vi": "đường liên xã", "en": "local road"},
    "road_minor": {"vi": "đường nhỏ", "en": "minor road"},
    "road_service": {"vi": "đường nội bộ", "en": "service road"},
    "road_track": {"vi": "đường đất", "en": "track"},
    "road_unnamed": {"vi": "{kind} (không tên)", "en": "{kind} (unnamed)"},
    # --- route sheet -------------------------------------------------------------------
    "sheet_dates": {"vi": "Ngày đi – ngày về", "en": "Out – back"},
    "crates_loaded": {"vi": "Số thùng xếp lên xe khi xuất phát",
                      "en": "Crates loaded at departure"},
    "planned": {"vi": "Dự kiến", "en": "Planned"},
    "actual_arrival": {"vi": "Giờ đến thực tế", "en": "Actual arrival"},
    "actual_departure": {"vi": "Giờ đi thực tế", "en": "Actual departure"},
    "signature": {"vi": "Chữ ký người nhận", "en": "Receiver's signature"},
    "driver_signature": {"vi": "Chữ ký lái xe", "en": "Driver's signature"},
    "remarks": {"vi": "Ghi chú", "en": "Remarks"},
    "contact": {"vi": "Liên hệ", "en": "Contact"},
    "note": {"vi": "Ghi chú", "en": "Note"},
    "directions": {"vi": "Đường đi", "en": "Directions"},
    "directions_from": {"vi": "Từ {place}", "en": "From {place}"},
    "road": {"vi": "Tuyến đường", "en": "Road"},
    "cumulative_km": {"vi": "Km lũy kế", "en": "Total km"},
    "directions_missing": {"vi": "Không có chỉ dẫn đường cho chặng này (thiếu routes.geojson).",
                           "en": "No directions for this leg (routes.geojson missing)."},
    "crates_checked": {"vi": "Số thùng thực tế", "en": "Crates counted"},
    "printed_on": {"vi": "In từ kế hoạch {run}, lập lúc {created}.",
                   "en": "Printed from plan {run}, created {created}."},
    "page_of_stops": {"vi": "{n} điểm dừng", "en": "{n} stops"},
    "odometer": {"vi": "Số km đồng hồ", "en": "Odometer"},
    # --- PDF sheets, overview maps and exports ----------------------------------------
    "sheet_pdf": {"vi": "Tải PDF", "en": "PDF"},
    "all_sheets_pdf": {"vi": "Tất cả phiếu lộ trình (PDF)", "en": "All route sheets (PDF)"},
    "overview_map": {"vi": "Sơ đồ lộ trình", "en": "Route overview"},
    "overview_map_alt": {"vi": "Sơ đồ lộ trình trên mạng đường: {vehicle}",
                         "en": "Route overview on the road network: {vehicle}"},
    "map_north": {"vi": "B", "en": "N"},
    "map_depot": {"vi": "Thư viện (xuất phát)", "en": "Library (depot)"},
    "page_n": {"vi": "Trang {n}", "en": "Page {n}"},
    "exports": {"vi": "Tải dữ liệu", "en": "Downloads"},
    "exports_help": {"vi": "GPX cho ứng dụng dẫn đường offline trên điện thoại (OsmAnd, "
                           "Organic Maps), KML cho Google Earth, bảng kê cho Excel.",
                     "en": "GPX for offline navigation apps on phones (OsmAnd, Organic Maps), "
                           "KML for Google Earth, manifests for Excel."},
    "export_geojson": {"vi": "GeoJSON (lộ trình)", "en": "GeoJSON (routes)"},
    "export_gpx": {"vi": "GPX (dẫn đường)", "en": "GPX (navigation)"},
    "export_kml": {"vi": "KML (Google Earth)", "en": "KML (Google Earth)"},
    "export_csv": {"vi": "Bảng kê CSV", "en": "CSV manifest"},
    "export_xlsx": {"vi": "Bảng kê Excel", "en": "Excel manifest"},
    "summary": {"vi": "Tổng hợp", "en": "Summary"},
    "commune_code": {"vi": "Mã xã", "en": "Commune code"},
    "service_day": {"vi": "Ngày phục vụ", "en": "Service day"},
    "vehicle_id": {"vi": "Mã xe", "en": "Vehicle ID"},
    "routes_missing": {"vi": "Kế hoạch {run} không có tệp routes.geojson.",
                       "en": "Plan {run} has no routes.geojson file."},
    "unknown_export": {"vi": "Không có định dạng tải về {fmt}.",
                       "en": "There is no download format {fmt}."},
    # --- jobs --------------------------------------------------------------------------
    "jobs_title": {"vi": "Lập kế hoạch mới", "en": "Start a new plan"},
    "jobs_intro": {"vi": "Chọn một kịch bản; bộ giải chạy trong một tiến trình riêng, trang "
                         "tác vụ cho biết tiến độ.",
                   "en": "Pick a scenario; the solver runs in a separate process and the job "
                         "page shows its progress."},
    "scenario": {"vi": "Kịch bản", "en": "Scenario"},
    "time_limit": {"vi": "Giới hạn thời gian giải (giây, để trống = theo kịch bản)",
                   "en": "Solver time limit (seconds; empty = the scenario's)"},
    "start_solve": {"vi": "Bắt đầu lập kế hoạch", "en": "Start solving"},
    "no_scenarios": {"vi": "Không có kịch bản nào trong {folder}.",
                     "en": "No scenarios in {folder}."},
    "recent_jobs": {"vi": "Các tác vụ gần đây", "en": "Recent jobs"},
    "no_jobs": {"vi": "Chưa có tác vụ nào.", "en": "No jobs yet."},
    "job": {"vi": "Tác vụ", "en": "Job"},
    "status": {"vi": "Trạng thái", "en": "Status"},
    "stage": {"vi": "Bước", "en": "Step"},
    "elapsed": {"vi": "Thời gian đã chạy", "en": "Elapsed"},
    "best_objective": {"vi": "Giá trị mục tiêu tốt nhất đến giờ",
                       "en": "Best objective so far"},
    "improvements": {"vi": "Số lần cải thiện lời giải", "en": "Improving solutions"},
    "cancel": {"vi": "Hủy tác vụ", "en": "Cancel"},
    "view_plan": {"vi": "Xem kế hoạch", "en": "View the plan"},
    "job_error": {"vi": "Thông báo lỗi", "en": "Error"},
    "job_log": {"vi": "Nhật ký", "en": "Log"},
    "auto_refresh": {"vi": "Trang tự cập nhật sau mỗi {n} giây.",
                     "en": "This page refreshes every {n} seconds."},
    "started": {"vi": "Bắt đầu", "en": "Started"},
    "status_queued": {"vi": "đang chờ", "en": "queued"},
    "status_running": {"vi": "đang chạy", "en": "running"},
    "status_done": {"vi": "hoàn thành", "en": "done"},
    "status_failed": {"vi": "thất bại", "en": "failed"},
    "status_cancelled": {"vi": "đã hủy", "en": "cancelled"},
    "stage_queued": {"vi": "chờ đến lượt", "en": "waiting for a free slot"},
    "stage_loading": {"vi": "đọc kịch bản", "en": "reading the scenario"},
    "stage_network": {"vi": "chuẩn bị mạng đường và ma trận", "en": "preparing roads and "
                                                                      "matrices"},
    "stage_solving": {"vi": "đang giải", "en": "solving"},
    "stage_writing": {"vi": "ghi kết quả và bản đồ", "en": "writing outputs and the map"},
    "stage_finished": {"vi": "xong", "en": "finished"},
    "seconds_n": {"vi": "{n} giây", "en": "{n} s"},
    # --- map ---------------------------------------------------------------------------
    "map_title": {"vi": "Bản đồ kế hoạch: {title}", "en": "Plan map: {title}"},
    "layer_outline": {"vi": "Ranh giới tỉnh", "en": "Province outline"},
    "layer_roads": {"vi": "Đường chính (dữ liệu offline)", "en": "Main roads (offline data)"},
    "layer_communes": {"vi": "Trung tâm xã/phường", "en": "Commune centres"},
    "layer_osm": {"vi": "Nền OpenStreetMap (cần Internet)",
                  "en": "OpenStreetMap tiles (needs internet)"},
    "layer_unserved": {"vi": "Xã chưa phục vụ", "en": "Communes not served"},
    "legend": {"vi": "Chú giải", "en": "Legend"},
    "stop_n": {"vi": "Điểm {n}", "en": "Stop {n}"},
    "unserved_marker": {"vi": "Chưa phục vụ", "en": "Not served"},
}


def translate(key: str, lang: str, /, **values: Any) -> str:
    """The message ``key`` in ``lang`` (falling back to Vietnamese), formatted with ``values``.

    An unknown key is returned as is, so a missing message shows up on the page instead of
    breaking it.
    """
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


def normalise_language(value: str | None) -> str | None:
    """``value`` if it names a supported language (``"vi"``, ``"EN"``...), else ``None``."""
    if not value:
        return None
    value = value.strip().lower()[:2]
    return value if value in LANGUAGES else None


def pick_language(args: Mapping[str, str], cookies: Mapping[str, str]) -> str:
    """The page language: ``?lang=`` first, then the ``lang`` cookie, else Vietnamese."""
    return (normalise_language(args.get("lang")) or normalise_language(cookies.get(COOKIE_NAME))
            or DEFAULT_LANGUAGE)


@dataclass(frozen=True)
class Translator:
    """``translate`` bound to one language: the ``_`` of templates."""

    lang: str

    def __call__(self, key: str, /, **values: Any) -> str:
        return translate(key, self.lang, **values)

    def day_offset(self, days: int) -> str:
        """``"+1 ngày"`` / ``"+2 days"``; empty on the departure day."""
        if days <= 0:
            return ""
        return self("day_offset" if days == 1 else "day_offset_plural", n=days)

    def road_class(self, road_class: str) -> str:
        return self(f"road_{road_class}") if f"road_{road_class}" in MESSAGES else road_class

    def reason(self, reason_code: str) -> str:
        key = f"reason_{reason_code}"
        return self(key) if key in MESSAGES else reason_code
