"""Hunan's administrative divisions (GB/T 2260): the province, its 14 cities and their counties."""

from __future__ import annotations

from dataclasses import dataclass

PROVINCE_CODE = "430000"
PROVINCE_NAME = "湖南省"


@dataclass(frozen=True)
class Division:
    """One division: a city (prefecture level) or a county (county level)."""

    code: str
    name: str
    parent: str

    @property
    def level(self) -> str:
        """'province', 'city' or 'county'."""
        if self.code == PROVINCE_CODE:
            return "province"
        return "city" if self.code.endswith("00") else "county"


_CITIES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "430100": (
        "长沙市",
        [
            ("430102", "芙蓉区"),
            ("430103", "天心区"),
            ("430104", "岳麓区"),
            ("430105", "开福区"),
            ("430111", "雨花区"),
            ("430112", "望城区"),
            ("430121", "长沙县"),
            ("430181", "浏阳市"),
            ("430182", "宁乡市"),
        ],
    ),
    "430200": (
        "株洲市",
        [
            ("430202", "荷塘区"),
            ("430203", "芦淞区"),
            ("430204", "石峰区"),
            ("430211", "天元区"),
            ("430212", "渌口区"),
            ("430223", "攸县"),
            ("430224", "茶陵县"),
            ("430225", "炎陵县"),
            ("430281", "醴陵市"),
        ],
    ),
    "430300": (
        "湘潭市",
        [
            ("430302", "雨湖区"),
            ("430304", "岳塘区"),
            ("430321", "湘潭县"),
            ("430381", "湘乡市"),
            ("430382", "韶山市"),
        ],
    ),
    "430400": (
        "衡阳市",
        [
            ("430405", "珠晖区"),
            ("430406", "雁峰区"),
            ("430407", "石鼓区"),
            ("430408", "蒸湘区"),
            ("430412", "南岳区"),
            ("430421", "衡阳县"),
            ("430422", "衡南县"),
            ("430423", "衡山县"),
            ("430424", "衡东县"),
            ("430426", "祁东县"),
            ("430481", "耒阳市"),
            ("430482", "常宁市"),
        ],
    ),
    "430500": (
        "邵阳市",
        [
            ("430502", "双清区"),
            ("430503", "大祥区"),
            ("430511", "北塔区"),
            ("430522", "新邵县"),
            ("430523", "邵阳县"),
            ("430524", "隆回县"),
            ("430525", "洞口县"),
            ("430527", "绥宁县"),
            ("430528", "新宁县"),
            ("430529", "城步苗族自治县"),
            ("430581", "武冈市"),
            ("430582", "邵东市"),
        ],
    ),
    "430600": (
        "岳阳市",
        [
            ("430602", "岳阳楼区"),
            ("430603", "云溪区"),
            ("430611", "君山区"),
            ("430621", "岳阳县"),
            ("430623", "华容县"),
            ("430624", "湘阴县"),
            ("430626", "平江县"),
            ("430681", "汨罗市"),
            ("430682", "临湘市"),
        ],
    ),
    "430700": (
        "常德市",
        [
            ("430702", "武陵区"),
            ("430703", "鼎城区"),
            ("430721", "安乡县"),
            ("430722", "汉寿县"),
            ("430723", "澧县"),
            ("430724", "临澧县"),
            ("430725", "桃源县"),
            ("430726", "石门县"),
            ("430781", "津市市"),
        ],
    ),
    "430800": (
        "张家界市",
        [("430802", "永定区"), ("430811", "武陵源区"), ("430821", "慈利县"), ("430822", "桑植县")],
    ),
    "430900": (
        "益阳市",
        [
            ("430902", "资阳区"),
            ("430903", "赫山区"),
            ("430921", "南县"),
            ("430922", "桃江县"),
            ("430923", "安化县"),
            ("430981", "沅江市"),
        ],
    ),
    "431000": (
        "郴州市",
        [
            ("431002", "北湖区"),
            ("431003", "苏仙区"),
            ("431021", "桂阳县"),
            ("431022", "宜章县"),
            ("431023", "永兴县"),
            ("431024", "嘉禾县"),
            ("431025", "临武县"),
            ("431026", "汝城县"),
            ("431027", "桂东县"),
            ("431028", "安仁县"),
            ("431081", "资兴市"),
        ],
    ),
    "431100": (
        "永州市",
        [
            ("431102", "零陵区"),
            ("431103", "冷水滩区"),
            ("431122", "东安县"),
            ("431123", "双牌县"),
            ("431124", "道县"),
            ("431125", "江永县"),
            ("431126", "宁远县"),
            ("431127", "蓝山县"),
            ("431128", "新田县"),
            ("431129", "江华瑶族自治县"),
            ("431181", "祁阳市"),
        ],
    ),
    "431200": (
        "怀化市",
        [
            ("431202", "鹤城区"),
            ("431221", "中方县"),
            ("431222", "沅陵县"),
            ("431223", "辰溪县"),
            ("431224", "溆浦县"),
            ("431225", "会同县"),
            ("431226", "麻阳苗族自治县"),
            ("431227", "新晃侗族自治县"),
            ("431228", "芷江侗族自治县"),
            ("431229", "靖州苗族侗族自治县"),
            ("431230", "通道侗族自治县"),
            ("431281", "洪江市"),
        ],
    ),
    "431300": (
        "娄底市",
        [
            ("431302", "娄星区"),
            ("431321", "双峰县"),
            ("431322", "新化县"),
            ("431381", "冷水江市"),
            ("431382", "涟源市"),
        ],
    ),
    "433100": (
        "湘西土家族苗族自治州",
        [
            ("433101", "吉首市"),
            ("433122", "泸溪县"),
            ("433123", "凤凰县"),
            ("433124", "花垣县"),
            ("433125", "保靖县"),
            ("433126", "古丈县"),
            ("433127", "永顺县"),
            ("433130", "龙山县"),
        ],
    ),
}

DIVISIONS: dict[str, Division] = {PROVINCE_CODE: Division(PROVINCE_CODE, PROVINCE_NAME, "")}
for _city_code, (_city_name, _counties) in _CITIES.items():
    DIVISIONS[_city_code] = Division(_city_code, _city_name, PROVINCE_CODE)
    for _code, _name in _counties:
        DIVISIONS[_code] = Division(_code, _name, _city_code)

CITIES: tuple[Division, ...] = tuple(d for d in DIVISIONS.values() if d.level == "city")
COUNTIES: tuple[Division, ...] = tuple(d for d in DIVISIONS.values() if d.level == "county")


def counties_of(city_code: str) -> tuple[Division, ...]:
    """The counties of one city, in code order."""
    return tuple(d for d in COUNTIES if d.parent == city_code)


def city_of(code: str) -> Division | None:
    """The city a county (or the city itself) belongs to."""
    division = DIVISIONS.get(code)
    if division is None or division.level == "province":
        return None
    return division if division.level == "city" else DIVISIONS[division.parent]


def full_name(code: str) -> str:
    """'常德市武陵区' for a county, '常德市' for a city, '湖南省' for the province."""
    division = DIVISIONS.get(code)
    if division is None:
        return code
    if division.level == "county":
        return DIVISIONS[division.parent].name + division.name
    return division.name


def contains(scope: str, code: str) -> bool:
    """Whether division `code` lies inside division `scope` (or is it)."""
    if scope == PROVINCE_CODE:
        return code.startswith("43")
    if scope.endswith("00"):
        return code[:4] == scope[:4]
    return code == scope
