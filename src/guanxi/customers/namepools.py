"""Name, company and place pools for synthetic data (`guanxi generate`, `guanxi demo`).

Common Chinese surnames and given names, Western names, and company names for mainland
China, Hong Kong, Taiwan and the United States, with the phone number plans of each.
"""

from __future__ import annotations

CN_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤"
)
CN_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官")
CN_GIVEN_NAMES = (
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "文", "华", "红", "晓明", "志强",
    "婷", "雪", "玉兰", "国强", "海燕", "俊杰", "子涵", "浩然", "欣怡", "梓轩", "雨桐", "思远",
    "嘉怡", "宇航", "佳琪", "一鸣", "晨曦", "若曦", "梦琪", "天佑", "心怡", "建国", "春梅", "丹",
    "鹏", "辉", "宁", "斌", "琳", "颖", "晶", "倩", "凯", "浩", "博文", "嘉欣", "子轩", "诗涵",
    "家豪", "志明", "美玲", "淑芬", "雅婷", "冠宇", "怡君", "宗翰", "承恩", "佩珊", "国华",
)  # fmt: skip
WESTERN_GIVEN_NAMES = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Daniel", "Karen", "Matthew", "Emily", "Anthony", "Nancy", "Mark", "Lisa", "Steven", "Amy",
    "Kevin", "Olivia", "Brian", "Emma", "Jason", "Sophia", "Ryan", "Grace", "Eric", "Chloe",
    "Andrew", "Hannah", "José", "Zoë", "Renée", "Søren",
)  # fmt: skip
WESTERN_FAMILY_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee",
    "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Müller", "O'Brien", "Schwarz", "Wong",
    "Chan", "Cheung", "Lin", "Huang",
)  # fmt: skip

CN_CITIES = (
    ("上海", "上海市", ("浦东新区", "徐汇区", "静安区", "闵行区")),
    ("北京", "北京市", ("朝阳区", "海淀区", "东城区", "丰台区")),
    ("深圳", "广东省", ("南山区", "福田区", "宝安区")),
    ("广州", "广东省", ("天河区", "越秀区", "番禺区")),
    ("杭州", "浙江省", ("西湖区", "滨江区", "余杭区")),
    ("苏州", "江苏省", ("工业园区", "姑苏区")),
    ("成都", "四川省", ("武侯区", "高新区")),
)
CN_BRANDS = (
    "远景", "华信", "恒通", "鼎盛", "金桥", "宏达", "新世纪", "东方", "长城", "天和", "瑞丰",
    "中科", "博远", "锦程", "海川", "万象", "星河", "联创", "汇丰源", "泰和", "嘉禾", "明德",
    "永安", "盛世", "祥云", "启航", "同心", "正泰", "蓝海", "银河",
)  # fmt: skip
CN_TRADES = (
    ("贸易有限公司", "trading"), ("科技有限公司", "technology"), ("物流有限公司", "logistics"),
    ("房地产开发有限公司", "real_estate"), ("食品有限公司", "food"), ("医疗器械有限公司", "medical"),
    ("汽车销售服务有限公司", "automotive"), ("建筑工程有限公司", "construction"),
    ("电子商务有限公司", "ecommerce"), ("咨询有限公司", "consulting"),
)  # fmt: skip
HK_COMPANIES = (
    ("港灣", "Harbour Gate"), ("太平", "Pacific Crest"), ("維港", "Victoria Bay"),
    ("金龍", "Golden Dragon"), ("東亞", "East Asia Link"), ("利豐", "Lee Fung"),
)  # fmt: skip
HK_TRADES = (("貿易有限公司", "Trading Limited", "trading"), ("物流有限公司", "Logistics Limited", "logistics"),
             ("投資有限公司", "Investment Limited", "finance"))  # fmt: skip
TW_CITIES = (("台北", "臺北市", ("信義區", "大安區", "中山區")), ("新竹", "新竹市", ("東區",)),
             ("台中", "臺中市", ("西屯區",)))  # fmt: skip
TW_BRANDS = ("鴻運", "台灣精密", "永豐", "宏碁興", "統一源", "聯發")
TW_TRADES = (("股份有限公司", "manufacturing"), ("科技股份有限公司", "technology"))
US_BRANDS = (
    "Summit", "Redwood", "Blue Ridge", "Lakeside", "Ironclad", "Brightpath", "Northwind",
    "Evergreen", "Silverline", "Granite", "Harbor", "Pioneer",
)  # fmt: skip
US_TRADES = (("Logistics Inc.", "logistics"), ("Software LLC", "technology"),
             ("Foods Corp.", "food"), ("Medical Supply Co.", "medical"),
             ("Trading Company", "trading"))  # fmt: skip
US_CITIES = (("New York", "NY", "212"), ("San Francisco", "CA", "415"), ("Seattle", "WA", "206"),
             ("Chicago", "IL", "312"), ("Los Angeles", "CA", "213"))  # fmt: skip

# mobile ranges in which every number is allocated (phonenumbers metadata)
HK_MOBILE_PREFIXES = ("61", "63", "64", "65", "69", "94", "96", "97")
CN_MOBILE_PREFIXES = ("138", "139", "135", "136", "186", "188", "150", "158", "177", "199")
EMAIL_DOMAINS_CN = ("qq.com", "163.com", "126.com", "sina.com", "aliyun.com")
EMAIL_DOMAINS_WEST = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com")

INTERACTION_SUBJECTS = (
    "电话回访", "产品介绍", "报价跟进", "合同条款沟通", "售后问题咨询", "上门拜访", "展会邀请",
    "续约提醒", "投诉处理", "满意度调查", "Follow-up call", "Quote sent", "Product demo",
    "Renewal reminder", "Support request", "Site visit", "Trade show invitation",
)  # fmt: skip
